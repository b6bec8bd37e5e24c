//! The audit log: who did what to which object, when and from where. Objects are named by
//! internal id only, never by a pupil's name. No foreign keys: the trail outlives its objects.

use sqlx::any::AnyRow;
use startblok_domain::{SchoolId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::{opt_text, text, ts};
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: OffsetDateTime,
    /// The user who acted, when a logged-in user did.
    pub actor_id: Option<UserId>,
    /// Who acted, readable: a user's e-mail address, `cli`, `systeem`, or `anoniem`.
    pub actor: String,
    /// What happened, a stable dotted name such as `login.ok` or `school.create`.
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub school_id: Option<SchoolId>,
    /// Where from: the client's IP address, or `cli`.
    pub source: String,
}

pub async fn record(conn: &mut Conn, e: &Entry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, actor, action, object_type, object_id, school_id, source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(format_ts(e.at))
    .bind(e.actor_id.map(|u| u.to_string()))
    .bind(e.actor.clone())
    .bind(e.action.clone())
    .bind(e.object_type.clone())
    .bind(e.object_id.clone())
    .bind(e.school_id.map(|s| s.to_string()))
    .bind(e.source.clone())
    .execute(conn)
    .await?;
    Ok(())
}

fn from_row(r: &AnyRow) -> Result<Entry> {
    Ok(Entry {
        at: ts(r, "at")?,
        actor_id: opt_text(r, "actor_id")?.and_then(|s| s.parse().ok()),
        actor: text(r, "actor")?,
        action: text(r, "action")?,
        object_type: opt_text(r, "object_type")?,
        object_id: opt_text(r, "object_id")?,
        school_id: opt_text(r, "school_id")?.and_then(|s| s.parse().ok()),
        source: text(r, "source")?,
    })
}

/// The newest entries first, at most `limit`.
pub async fn recent(conn: &mut Conn, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT at, actor_id, actor, action, object_type, object_id, school_id, source \
         FROM audit_log ORDER BY at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest entries of one school first, at most `limit`.
pub async fn recent_for_school(
    conn: &mut Conn,
    school: SchoolId,
    limit: i64,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT at, actor_id, actor, action, object_type, object_id, school_id, source \
         FROM audit_log WHERE school_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(school.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
