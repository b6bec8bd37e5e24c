//! Single-use links (first-time setup, invitation, password reset). Only the token's hash is
//! stored; using a link marks it used in the same statement that checks it, so it works once.

use sqlx::Row;
use startblok_domain::UserId;
use time::OffsetDateTime;

use crate::support::id;
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The first operator's account, printed by the CLI.
    Setup,
    /// A new school user's account.
    Invite,
    /// A forgotten password.
    Reset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Setup => "setup",
            Purpose::Invite => "invite",
            Purpose::Reset => "reset",
        }
    }
}

pub async fn insert(
    conn: &mut Conn,
    token_hash: &str,
    user: UserId,
    purpose: Purpose,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash.to_string())
    .bind(user.to_string())
    .bind(purpose.as_str().to_string())
    .bind(format_ts(now))
    .bind(format_ts(expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The user a still-valid link belongs to, without using it up (to show the form).
pub async fn peek(
    conn: &mut Conn,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<UserId>> {
    let row = sqlx::query(
        "SELECT user_id FROM user_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash.to_string())
    .bind(format_ts(now))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(|r| id(r, "user_id")).transpose()
}

/// Uses a link: returns its user if it was valid, and marks it used, atomically.
pub async fn consume(
    conn: &mut Conn,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<UserId>> {
    let row = sqlx::query(
        "UPDATE user_tokens SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
    )
    .bind(token_hash.to_string())
    .bind(format_ts(now))
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|r| {
            let s: String = r.try_get("user_id")?;
            Ok(s.parse().map_err(|_| sqlx::Error::RowNotFound)?)
        })
        .transpose()
}

/// Members of a school who have an open (unused, unexpired) link to set their password.
pub async fn with_open_links(
    conn: &mut Conn,
    school: startblok_domain::SchoolId,
    now: OffsetDateTime,
) -> Result<Vec<UserId>> {
    let rows = sqlx::query(
        "SELECT DISTINCT t.user_id FROM user_tokens t JOIN memberships m ON m.user_id = t.user_id \
         WHERE m.school_id = $1 AND t.used_at IS NULL AND t.expires_at > $2",
    )
    .bind(school.to_string())
    .bind(format_ts(now))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| id(r, "user_id")).collect()
}

/// Invalidates all open links of a user (for example after the password was set another way).
pub async fn revoke_all_for_user(conn: &mut Conn, user: UserId, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user.to_string())
        .bind(format_ts(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// How many links of a purpose a user got since `since` (to limit reset mails).
pub async fn count_since(
    conn: &mut Conn,
    user: UserId,
    purpose: Purpose,
    since: OffsetDateTime,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND created_at > $3",
    )
    .bind(user.to_string())
    .bind(purpose.as_str().to_string())
    .bind(format_ts(since))
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")?)
}
