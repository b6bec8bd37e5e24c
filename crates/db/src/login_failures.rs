//! Failed logins, counted per account and per IP address to throttle guessing. Kept in the
//! database (not in memory) so the limit holds across several app servers.

use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Ip,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Ip => "ip",
        }
    }
}

pub async fn record(
    conn: &mut Conn,
    scope: Scope,
    key_hash: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (id, scope, key_hash, at) VALUES ($1, $2, $3, $4)")
        .bind(Uuid::now_v7().to_string())
        .bind(scope.as_str().to_string())
        .bind(key_hash.to_string())
        .bind(format_ts(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count_since(
    conn: &mut Conn,
    scope: Scope,
    key_hash: &str,
    since: OffsetDateTime,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM login_failures WHERE scope = $1 AND key_hash = $2 AND at > $3",
    )
    .bind(scope.as_str().to_string())
    .bind(key_hash.to_string())
    .bind(format_ts(since))
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// Forgets the failures of one key (after a successful login of that account).
pub async fn clear(conn: &mut Conn, scope: Scope, key_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND key_hash = $2")
        .bind(scope.as_str().to_string())
        .bind(key_hash.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_older_than(conn: &mut Conn, before: OffsetDateTime) -> Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(format_ts(before))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
