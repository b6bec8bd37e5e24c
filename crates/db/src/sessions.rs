//! Login sessions. Only the SHA-256 of the session token is stored; the token itself lives in
//! the browser's cookie.

use sqlx::any::AnyRow;
use startblok_domain::{SchoolId, UserId};
use time::OffsetDateTime;

use crate::support::{id, opt_text, text, ts};
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub current_school_id: Option<SchoolId>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

fn from_row(r: &AnyRow) -> Result<Session> {
    Ok(Session {
        token_hash: text(r, "token_hash")?,
        user_id: id(r, "user_id")?,
        csrf_token: text(r, "csrf_token")?,
        current_school_id: opt_text(r, "current_school_id")?.and_then(|s| s.parse().ok()),
        created_at: ts(r, "created_at")?,
        last_seen_at: ts(r, "last_seen_at")?,
        expires_at: ts(r, "expires_at")?,
    })
}

pub async fn insert(conn: &mut Conn, s: &Session) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, current_school_id, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.token_hash.clone())
    .bind(s.user_id.to_string())
    .bind(s.csrf_token.clone())
    .bind(s.current_school_id.map(|s| s.to_string()))
    .bind(format_ts(s.created_at))
    .bind(format_ts(s.last_seen_at))
    .bind(format_ts(s.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_token_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<Session>> {
    let row = sqlx::query(
        "SELECT token_hash, user_id, csrf_token, current_school_id, created_at, last_seen_at, \
         expires_at FROM sessions WHERE token_hash = $1",
    )
    .bind(token_hash.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn touch(conn: &mut Conn, token_hash: &str, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(format_ts(now))
        .bind(token_hash.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_current_school(conn: &mut Conn, token_hash: &str, school: SchoolId) -> Result<()> {
    sqlx::query("UPDATE sessions SET current_school_id = $1 WHERE token_hash = $2")
        .bind(school.to_string())
        .bind(token_hash.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user (password changed, user disabled). Returns how many.
pub async fn delete_all_for_user(conn: &mut Conn, user: UserId) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions past their absolute expiry or idle for longer than allowed.
pub async fn delete_stale(
    conn: &mut Conn,
    now: OffsetDateTime,
    idle_since: OffsetDateTime,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(format_ts(now))
        .bind(format_ts(idle_since))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn count_for_user(conn: &mut Conn, user: UserId) -> Result<i64> {
    use sqlx::Row;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// The school the user worked in most recently (from their latest session), if any.
pub async fn last_school(conn: &mut Conn, user: UserId) -> Result<Option<SchoolId>> {
    let row = sqlx::query(
        "SELECT current_school_id FROM sessions WHERE user_id = $1 AND current_school_id IS NOT NULL \
         ORDER BY last_seen_at DESC LIMIT 1",
    )
    .bind(user.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(row
        .as_ref()
        .map(|r| opt_text(r, "current_school_id"))
        .transpose()?
        .flatten()
        .and_then(|s| s.parse().ok()))
}
