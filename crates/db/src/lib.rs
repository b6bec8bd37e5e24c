//! Storage for Startblok: one [`Db`] over SQLite and PostgreSQL.
//!
//! Both backends are reached through sqlx's `Any` driver with runtime queries in a portable SQL
//! subset (`$1` placeholders work on both). Migrations are kept per backend under `migrations/`.
//! Functions take a `&mut Conn` so that the `app` crate decides where transactions begin and end;
//! every school-scoped function takes the `SchoolId` first.

pub mod aanvragen;
pub mod audit;
pub mod boom_uploads;
pub mod groups;
pub mod imports;
pub mod koppelingen;
pub mod leveringen;
pub mod login_failures;
pub mod norms;
pub mod pupils;
pub mod resultaten;
pub mod school_setup;
pub mod schools;
pub mod sessions;
mod support;
#[cfg(feature = "testing")]
pub mod testing;
pub mod toetsdoelen;
pub mod toetsen;
pub mod user_tokens;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

pub use support::{format_ts, parse_ts};

/// A connection; `&mut *tx` of a [`Tx`] and `&mut *pool_conn` both give one.
pub type Conn = sqlx::AnyConnection;
/// A transaction. On SQLite, write transactions start with `BEGIN IMMEDIATE` (see [`Db::begin`]).
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;
pub type PoolConn = sqlx::pool::PoolConnection<sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database-URL niet herkend: gebruik sqlite://PAD of postgres://…")]
    UnsupportedUrl,
    #[error("kan de map voor de database niet maken: {0}")]
    CreateDir(std::io::Error),
    #[error("kan de database niet openen: {0}")]
    Connect(sqlx::Error),
    #[error("kan de database niet bijwerken (migratie): {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint refused the write; the caller maps it to a Dutch message.
    #[error("bestaat al")]
    Duplicate,
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Sqlx(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Duplicate,
            _ => DbError::Sqlx(e),
        }
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

static MIGRATOR_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MIGRATOR_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database handle shared by the whole process. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Opens (and for SQLite creates) the database at `url`: `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(DbError::Connect)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
        // One direct attempt first: a wrong URL or a server that is down fails at once with its
        // own error, instead of after the pool's retries.
        let probe = sqlx::AnyConnection::connect_with(&options)
            .await
            .map_err(DbError::Connect)?;
        probe.close().await.map_err(DbError::Connect)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with synchronous=FULL: an acknowledged write survives power loss.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema up to date. Safe to run while other processes use the database.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => MIGRATOR_SQLITE.run(&self.pool).await?,
            Backend::Postgres => MIGRATOR_POSTGRES.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Starts a transaction that will write. On SQLite this takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never fails halfway when upgrading a read lock.
    pub async fn begin(&self) -> Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// A connection for reads (or single-statement writes).
    pub async fn conn(&self) -> Result<PoolConn> {
        Ok(self.pool.acquire().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Table name → sorted column names with their NOT NULL flag, used by the test that keeps
    /// both backends' migrations in step.
    pub async fn schema_outline(&self) -> Result<Vec<(String, Vec<(String, bool)>)>> {
        support::schema_outline(self).await
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Normalises a SQLite URL: creates the parent folder and asks sqlx to create the file.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or(DbError::UnsupportedUrl)?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(DbError::UnsupportedUrl);
    }
    if path != ":memory:"
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(DbError::CreateDir)?;
    }
    let query = match query {
        Some(q) if q.contains("mode=") => q.to_string(),
        Some(q) => format!("{q}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    Ok(format!("sqlite://{path}?{query}"))
}
