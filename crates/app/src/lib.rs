//! Use cases of Startblok. This crate is the only place that opens transactions; handlers in
//! `web` and commands in `cli` call one use case each and render its outcome.

pub mod aanvragen;
pub mod auth;
pub mod boom_file;
pub mod demo;
pub mod edexml_import;
pub mod forms;
pub mod groups;
pub mod intake;
pub mod koppelingen;
pub mod mail;
pub mod normen;
pub mod provisioning;
pub mod pupils;
pub mod resultaten;
pub mod school_setup;
pub mod secrets;
pub mod spreadsheet;
pub mod toetsdoelen;
pub mod toetsen;

use startblok_db::{Db, DbError, audit};
use startblok_domain::{SchoolId, UserId};
use time::{Duration, OffsetDateTime};

pub use startblok_db as db;

/// Settings that shape behaviour (not wiring): where the app is reached and how long things last.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address people use to reach Startblok, used in links (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after login, whatever happens.
    pub session_absolute: Duration,
    /// How long an invitation or setup link stays valid.
    pub link_valid_for: Duration,
    /// The largest UWLR message accepted, in bytes.
    pub uwlr_body_limit: usize,
    /// How long the raw body of a UWLR delivery is kept.
    pub uwlr_bewaartermijn: Duration,
    /// How many UWLR messages one koppeling may send per minute (see `intake::Limiter`).
    pub uwlr_per_minuut: u32,
    /// How many UWLR messages this process reads and stores at once; more wait (up to 30 s).
    /// Bounds memory: a message of up to `uwlr_body_limit` is held whole while it is read.
    pub uwlr_gelijktijdig: usize,
}

impl Settings {
    pub fn new(public_url: impl Into<String>) -> Self {
        Settings {
            public_url: public_url.into().trim_end_matches('/').to_string(),
            session_idle: Duration::hours(2),
            session_absolute: Duration::hours(12),
            link_valid_for: Duration::days(7),
            uwlr_body_limit: 32 * 1024 * 1024,
            uwlr_bewaartermijn: Duration::days(90),
            uwlr_per_minuut: 120,
            uwlr_gelijktijdig: 4,
        }
    }
}

/// The application: storage plus settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    pub db: Db,
    pub settings: Settings,
    /// Imports being applied on this server, with their progress.
    pub jobs: edexml_import::Jobs,
    /// Where e-mail goes (SMTP, the outbox folder, or memory).
    pub mailer: mail::Mailer,
    /// Wakes the worker that processes received UWLR results.
    pub intake: intake::Signal,
    /// The UWLR intake's quota per koppeling, shared by the app's clones.
    pub uwlr_limiter: intake::Limiter,
    /// Places for UWLR messages being read and stored (`Settings::uwlr_gelijktijdig`).
    pub uwlr_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("wachtwoord kon niet worden verwerkt")]
    PasswordHash,
    /// Stored data that cannot be read back (a bug or a damaged database).
    #[error("opgeslagen gegevens onleesbaar: {0}")]
    Corrupt(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// Who is acting, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    /// E-mail address of a user, or `cli` / `systeem` / `anoniem`.
    pub label: String,
    /// The client's IP address, or `cli`.
    pub source: String,
}

impl Actor {
    pub fn cli() -> Self {
        Actor {
            user_id: None,
            label: "cli".into(),
            source: "cli".into(),
        }
    }
    pub fn system() -> Self {
        Actor {
            user_id: None,
            label: "systeem".into(),
            source: "systeem".into(),
        }
    }
    pub fn anonymous(source: impl Into<String>) -> Self {
        Actor {
            user_id: None,
            label: "anoniem".into(),
            source: source.into(),
        }
    }
    pub fn user(id: UserId, email: &str, source: impl Into<String>) -> Self {
        Actor {
            user_id: Some(id),
            label: email.to_string(),
            source: source.into(),
        }
    }
}

/// The current time, in whole microseconds (what the database keeps).
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .expect("valid nanosecond")
}

/// Records one audit entry inside the caller's transaction.
pub(crate) async fn audit(
    conn: &mut startblok_db::Conn,
    actor: &Actor,
    action: &str,
    object: Option<(&str, String)>,
    school: Option<SchoolId>,
) -> AppResult<()> {
    let (object_type, object_id) = match object {
        Some((t, id)) => (Some(t.to_string()), Some(id)),
        None => (None, None),
    };
    audit::record(
        conn,
        &audit::Entry {
            at: now(),
            actor_id: actor.user_id,
            actor: actor.label.clone(),
            action: action.to_string(),
            object_type,
            object_id,
            school_id: school,
            source: actor.source.clone(),
        },
    )
    .await?;
    Ok(())
}

impl App {
    pub fn new(db: Db, settings: Settings) -> Self {
        App {
            db,
            jobs: edexml_import::Jobs::default(),
            mailer: mail::Mailer::memory(),
            intake: intake::Signal::default(),
            uwlr_limiter: intake::Limiter::per_minute(settings.uwlr_per_minuut),
            uwlr_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
                settings.uwlr_gelijktijdig.max(1),
            )),
            settings,
        }
    }

    /// The same app, sending mail through `mailer`.
    pub fn with_mailer(mut self, mailer: mail::Mailer) -> Self {
        self.mailer = mailer;
        self
    }

    /// A full link to a path of this instance (`/welkom/…` → `http://host/welkom/…`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.settings.public_url, path)
    }
}
