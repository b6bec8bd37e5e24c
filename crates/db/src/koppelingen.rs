//! Koppelingen: the educational applications Startblok knows (with their UWLR klantcode and
//! klantnaam), a school's koppeling with one of them, and its autorisatiesleutels. A key is stored
//! only as its SHA-256 hash and its last 4 characters; it is never stored or logged in the clear.

use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::{id, opt_ts, text, ts};
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicatie {
    pub id: String,
    /// Short name for the CLI (`boom`).
    pub slug: String,
    pub naam: String,
    pub klantnaam: String,
    pub klantcode: String,
    pub updated_at: OffsetDateTime,
}

fn applicatie_row(r: &AnyRow) -> Result<Applicatie> {
    Ok(Applicatie {
        id: text(r, "id")?,
        slug: text(r, "slug")?,
        naam: text(r, "naam")?,
        klantnaam: text(r, "klantnaam")?,
        klantcode: text(r, "klantcode")?,
        updated_at: ts(r, "updated_at")?,
    })
}

const APPLICATIE_COLUMNS: &str = "a.id, a.slug, a.naam, a.klantnaam, a.klantcode, a.updated_at";

pub async fn applicaties(conn: &mut Conn) -> Result<Vec<Applicatie>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {APPLICATIE_COLUMNS} FROM applicaties a ORDER BY a.naam, a.id"
    )))
    .fetch_all(conn)
    .await?;
    rows.iter().map(applicatie_row).collect()
}

pub async fn applicatie_by_slug(conn: &mut Conn, slug: &str) -> Result<Option<Applicatie>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {APPLICATIE_COLUMNS} FROM applicaties a WHERE a.slug = $1"
    )))
    .bind(slug.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(applicatie_row).transpose()
}

/// The application a UWLR sender names itself as: klantcode and klantnaam must both match.
pub async fn applicatie_by_klant(
    conn: &mut Conn,
    klantcode: &str,
    klantnaam: &str,
) -> Result<Option<Applicatie>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {APPLICATIE_COLUMNS} FROM applicaties a WHERE a.klantcode = $1 AND a.klantnaam = $2"
    )))
    .bind(klantcode.to_string())
    .bind(klantnaam.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(applicatie_row).transpose()
}

/// Changes an application's client identification; another application's klantcode gives
/// [`crate::DbError::Duplicate`].
pub async fn update_klant(
    conn: &mut Conn,
    applicatie: &str,
    klantnaam: &str,
    klantcode: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "UPDATE applicaties SET klantnaam = $2, klantcode = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(applicatie.to_string())
    .bind(klantnaam.to_string())
    .bind(klantcode.to_string())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Koppeling {
    pub id: String,
    pub school_id: SchoolId,
    pub applicatie_id: String,
    pub created_at: OffsetDateTime,
    pub connected_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

fn koppeling_row(r: &AnyRow) -> Result<Koppeling> {
    Ok(Koppeling {
        id: text(r, "id")?,
        school_id: id(r, "school_id")?,
        applicatie_id: text(r, "applicatie_id")?,
        created_at: ts(r, "created_at")?,
        connected_at: opt_ts(r, "connected_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

const KOPPELING_COLUMNS: &str =
    "k.id, k.school_id, k.applicatie_id, k.created_at, k.connected_at, k.revoked_at";

pub async fn koppeling(
    conn: &mut Conn,
    school: SchoolId,
    applicatie: &str,
) -> Result<Option<Koppeling>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KOPPELING_COLUMNS} FROM koppelingen k WHERE k.school_id = $1 AND k.applicatie_id = $2"
    )))
    .bind(school.to_string())
    .bind(applicatie.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(koppeling_row).transpose()
}

pub async fn koppelingen_of_school(conn: &mut Conn, school: SchoolId) -> Result<Vec<Koppeling>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KOPPELING_COLUMNS} FROM koppelingen k WHERE k.school_id = $1 ORDER BY k.created_at"
    )))
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(koppeling_row).collect()
}

pub async fn insert_koppeling(
    conn: &mut Conn,
    school: SchoolId,
    applicatie: &str,
    now: OffsetDateTime,
) -> Result<Koppeling> {
    let k = Koppeling {
        id: Uuid::now_v7().to_string(),
        school_id: school,
        applicatie_id: applicatie.to_string(),
        created_at: now,
        connected_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO koppelingen (id, school_id, applicatie_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(k.id.clone())
    .bind(school.to_string())
    .bind(k.applicatie_id.clone())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(k)
}

/// Marks a koppeling revoked (`Some`) or open again (`None`).
pub async fn set_revoked(
    conn: &mut Conn,
    koppeling: &str,
    at: Option<OffsetDateTime>,
) -> Result<()> {
    sqlx::query("UPDATE koppelingen SET revoked_at = $2 WHERE id = $1")
        .bind(koppeling.to_string())
        .bind(at.map(format_ts))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the first accepted message; later ones leave the time as it is.
pub async fn mark_connected(conn: &mut Conn, koppeling: &str, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE koppelingen SET connected_at = $2 WHERE id = $1 AND connected_at IS NULL")
        .bind(koppeling.to_string())
        .bind(format_ts(now))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Made by Startblok from the OS random generator.
    Uitgegeven,
    /// The example key of the manual, in a demo instance only.
    Demo,
}

impl KeyOrigin {
    fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Uitgegeven => "uitgegeven",
            KeyOrigin::Demo => "demo",
        }
    }
}

/// What is kept of a key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: String,
    pub last4: String,
    pub origin: KeyOrigin,
    pub issued_at: OffsetDateTime,
    /// The end of the grace period, once a newer key replaced this one.
    pub valid_until: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl KeyInfo {
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.valid_until.is_none_or(|t| t > now)
    }
}

fn key_info(r: &AnyRow) -> Result<KeyInfo> {
    Ok(KeyInfo {
        id: text(r, "id")?,
        last4: text(r, "last4")?,
        origin: if text(r, "origin")? == "demo" {
            KeyOrigin::Demo
        } else {
            KeyOrigin::Uitgegeven
        },
        issued_at: ts(r, "issued_at")?,
        valid_until: opt_ts(r, "valid_until")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

pub async fn insert_key(
    conn: &mut Conn,
    koppeling: &str,
    key_hash: &str,
    last4: &str,
    origin: KeyOrigin,
    now: OffsetDateTime,
) -> Result<String> {
    let id = Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO koppeling_keys (id, koppeling_id, key_hash, last4, origin, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.clone())
    .bind(koppeling.to_string())
    .bind(key_hash.to_string())
    .bind(last4.to_string())
    .bind(origin.as_str().to_string())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(id)
}

/// A koppeling's keys, newest first.
pub async fn keys(conn: &mut Conn, koppeling: &str) -> Result<Vec<KeyInfo>> {
    let rows = sqlx::query(
        "SELECT id, last4, origin, issued_at, valid_until, revoked_at FROM koppeling_keys \
         WHERE koppeling_id = $1 ORDER BY issued_at DESC, id DESC",
    )
    .bind(koppeling.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(key_info).collect()
}

/// Ends the keys that are valid now at `until` (the end of a rotation's grace period). Keys with
/// an earlier end keep it.
pub async fn end_keys(
    conn: &mut Conn,
    koppeling: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE koppeling_keys SET valid_until = $3 WHERE koppeling_id = $1 AND revoked_at IS NULL \
         AND (valid_until IS NULL OR (valid_until > $2 AND valid_until > $3))",
    )
    .bind(koppeling.to_string())
    .bind(format_ts(now))
    .bind(format_ts(until))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Revokes every key of a koppeling that is not revoked yet; returns how many.
pub async fn revoke_keys(conn: &mut Conn, koppeling: &str, now: OffsetDateTime) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE koppeling_keys SET revoked_at = $2 WHERE koppeling_id = $1 AND revoked_at IS NULL",
    )
    .bind(koppeling.to_string())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// The koppeling a key (by its hash) opens now, with the stored hash for a constant-time check:
/// the key is neither revoked nor past its grace period, and the koppeling is not revoked.
pub async fn by_valid_key_hash(
    conn: &mut Conn,
    key_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<(Koppeling, String)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KOPPELING_COLUMNS}, kk.key_hash FROM koppeling_keys kk \
         JOIN koppelingen k ON k.id = kk.koppeling_id \
         WHERE kk.key_hash = $1 AND kk.revoked_at IS NULL \
         AND (kk.valid_until IS NULL OR kk.valid_until > $2) AND k.revoked_at IS NULL"
    )))
    .bind(key_hash.to_string())
    .bind(format_ts(now))
    .fetch_optional(conn)
    .await?;
    match row {
        Some(r) => Ok(Some((koppeling_row(&r)?, text(&r, "key_hash")?))),
        None => Ok(None),
    }
}

/// A single-use link to fetch a key: its koppeling, and whether it can still be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLink {
    pub koppeling_id: String,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    /// The user who used it, or [`CANCELLED`] when a revocation ended it unused.
    pub used_by: Option<String>,
}

/// `used_by` of a link that a revocation ended before anyone used it.
pub const CANCELLED: &str = "ingetrokken";

pub async fn insert_key_link(
    conn: &mut Conn,
    token_hash: &str,
    koppeling: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO key_links (token_hash, koppeling_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash.to_string())
    .bind(koppeling.to_string())
    .bind(format_ts(now))
    .bind(format_ts(expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// A link by its token's hash, used or not (to say clearly why it no longer works).
pub async fn key_link(conn: &mut Conn, token_hash: &str) -> Result<Option<KeyLink>> {
    let row = sqlx::query(
        "SELECT koppeling_id, expires_at, used_at, used_by FROM key_links WHERE token_hash = $1",
    )
    .bind(token_hash.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|r| {
            Ok(KeyLink {
                koppeling_id: text(r, "koppeling_id")?,
                expires_at: ts(r, "expires_at")?,
                used_at: opt_ts(r, "used_at")?,
                used_by: crate::support::opt_text(r, "used_by")?,
            })
        })
        .transpose()
}

/// Uses a link, atomically: true when it was unused and unexpired (and is now used).
pub async fn use_key_link(
    conn: &mut Conn,
    token_hash: &str,
    user: &str,
    now: OffsetDateTime,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE key_links SET used_at = $2, used_by = $3 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash.to_string())
    .bind(format_ts(now))
    .bind(user.to_string())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The koppeling by id.
pub async fn koppeling_by_id(conn: &mut Conn, koppeling: &str) -> Result<Option<Koppeling>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KOPPELING_COLUMNS} FROM koppelingen k WHERE k.id = $1"
    )))
    .bind(koppeling.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(koppeling_row).transpose()
}

/// Whether the koppeling has an unused, unexpired key link (a key waits to be fetched).
pub async fn has_open_key_link(
    conn: &mut Conn,
    koppeling: &str,
    now: OffsetDateTime,
) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM key_links WHERE koppeling_id = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(koppeling.to_string())
    .bind(format_ts(now))
    .fetch_one(conn)
    .await?;
    Ok(sqlx::Row::try_get::<i64, _>(&row, "n")? > 0)
}

pub async fn applicatie_by_id(conn: &mut Conn, applicatie: &str) -> Result<Option<Applicatie>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {APPLICATIE_COLUMNS} FROM applicaties a WHERE a.id = $1"
    )))
    .bind(applicatie.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(applicatie_row).transpose()
}

/// Ends every unused link of a koppeling (a revocation: no link may bring a key back).
pub async fn cancel_key_links(
    conn: &mut Conn,
    koppeling: &str,
    now: OffsetDateTime,
) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE key_links SET used_at = $2, used_by = $3 WHERE koppeling_id = $1 AND used_at IS NULL",
    )
    .bind(koppeling.to_string())
    .bind(format_ts(now))
    .bind(CANCELLED.to_string())
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
