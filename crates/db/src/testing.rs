//! Fresh, migrated databases for tests: always a SQLite file in a temporary folder, and a
//! PostgreSQL database of its own when `STARTBLOK_TEST_PG` holds a server URL (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`). Under CI (`CI=true`) a missing
//! `STARTBLOK_TEST_PG` is a failure, not a skip.

use std::sync::Once;

use sqlx::{Connection, Executor};

use crate::{Backend, Db};

/// A migrated database that is removed again when dropped.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}/startblok.db", dir.path().display());
        let db = Db::connect(&url).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a clear message) when none is configured.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = pg_admin_url()?;
        let name = format!("startblok_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at STARTBLOK_TEST_PG: {e}"));
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        let url = replace_db_name(&admin_url, &name);
        let db = Db::connect(&url).await.expect("open PostgreSQL");
        db.migrate().await.expect("migrate PostgreSQL");
        Some(TestDb {
            db,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// SQLite always, PostgreSQL when configured: run a test body over each.
    pub async fn all() -> Vec<TestDb> {
        let mut out = vec![TestDb::sqlite().await];
        if let Some(pg) = TestDb::postgres().await {
            out.push(pg);
        }
        out
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Where `needle` occurs anywhere in the database, as `table.column` (every column of every
    /// table, read as text). For tests that promise something is never stored (a key, a BSN).
    pub async fn find_text(&self, needle: &str) -> Vec<String> {
        use sqlx::Row;
        let mut c = self.db.conn().await.expect("connection");
        let columns: Vec<(String, String)> = match self.backend() {
            Backend::Sqlite => {
                let tables = sqlx::query(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(&mut *c)
                .await
                .expect("tables");
                let mut out = Vec::new();
                for t in tables {
                    let table: String = t.get("name");
                    let cols = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT name FROM pragma_table_info('{table}')"
                    )))
                    .fetch_all(&mut *c)
                    .await
                    .expect("columns");
                    out.extend(cols.iter().map(|r| (table.clone(), r.get::<String, _>("name"))));
                }
                out
            }
            Backend::Postgres => sqlx::query(
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                 WHERE table_schema = 'public'",
            )
            .fetch_all(&mut *c)
            .await
            .expect("columns")
            .iter()
            .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c")))
            .collect(),
        };
        let find = match self.backend() {
            Backend::Sqlite => "instr(CAST({c} AS TEXT), $1) > 0",
            Backend::Postgres => "strpos(CAST({c} AS TEXT), $1) > 0",
        };
        let mut hits = Vec::new();
        for (table, column) in columns {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM \"{table}\" WHERE {}",
                find.replace("{c}", &format!("\"{column}\""))
            );
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(needle.to_string())
                .fetch_one(&mut *c)
                .await
                .expect("search")
                .get("n");
            if n > 0 {
                hits.push(format!("{table}.{column}"));
            }
        }
        hits
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; use a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = c
                                .execute(sqlx::AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                )))
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// The PostgreSQL server URL for tests, or `None` after saying clearly that those tests are
/// skipped. Panics under CI, where PostgreSQL must be there.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("STARTBLOK_TEST_PG") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but STARTBLOK_TEST_PG is not set: PostgreSQL tests must run in CI");
            }
            static WARN: Once = Once::new();
            // Straight to stderr: the test harness captures eprintln! of passing tests, and this
            // must be seen in a plain `cargo test`.
            WARN.call_once(|| {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTE: PostgreSQL tests SKIPPED (set STARTBLOK_TEST_PG=postgres://user@host:5432/postgres to run them)"
                );
            });
            None
        }
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("STARTBLOK_TEST_PG is a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}
