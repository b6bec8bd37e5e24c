//! EDEXML imports: the allow-listed roster between upload and confirm, then the report that
//! stays in the school's import history. Also the LAS keys of teachers (`team_las_keys`).

use sqlx::any::AnyRow;
use startblok_domain::{SchoolId, UserId};
use time::OffsetDateTime;

use crate::support::{id, opt_text, text, ts};
use crate::{Conn, DbError, Result, format_ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Uploaded and read; waiting for the Beheerder to confirm.
    Preview,
    /// Being applied.
    Running,
    Applied,
    Failed,
    /// Never confirmed; its roster was removed.
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Preview => "voorvertoning",
            Status::Running => "bezig",
            Status::Applied => "toegepast",
            Status::Failed => "mislukt",
            Status::Expired => "vervallen",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "voorvertoning" => Status::Preview,
            "bezig" => Status::Running,
            "toegepast" => Status::Applied,
            "mislukt" => Status::Failed,
            "vervallen" => Status::Expired,
            _ => return None,
        })
    }
}

/// One import as stored (the roster only while it is needed).
#[derive(Debug, Clone)]
pub struct Import {
    pub id: String,
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub file_name: String,
    pub file_hash: String,
    pub roster: Option<String>,
    pub status: Status,
    pub report: Option<String>,
    pub message: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const COLUMNS: &str = "id, actor_id, actor, file_name, file_hash, roster, status, report, message, created_at, updated_at";
const SUMMARY_COLUMNS: &str = "id, actor_id, actor, file_name, file_hash, NULL AS roster, status, report, message, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Import> {
    let status = text(r, "status")?;
    Ok(Import {
        id: text(r, "id")?,
        actor_id: opt_text(r, "actor_id")?.and_then(|s| s.parse().ok()),
        actor: text(r, "actor")?,
        file_name: text(r, "file_name")?,
        file_hash: text(r, "file_hash")?,
        roster: opt_text(r, "roster")?,
        status: Status::parse(&status).ok_or_else(|| {
            DbError::Sqlx(sqlx::Error::Decode(
                format!("bad import status {status}").into(),
            ))
        })?,
        report: opt_text(r, "report")?,
        message: opt_text(r, "message")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert(conn: &mut Conn, school: SchoolId, i: &Import) -> Result<()> {
    sqlx::query(
        "INSERT INTO edexml_imports (id, school_id, actor_id, actor, file_name, file_hash, roster, status, \
         report, message, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(i.id.clone())
    .bind(school.to_string())
    .bind(i.actor_id.map(|u| u.to_string()))
    .bind(i.actor.clone())
    .bind(i.file_name.clone())
    .bind(i.file_hash.clone())
    .bind(i.roster.clone())
    .bind(i.status.as_str())
    .bind(i.report.clone())
    .bind(i.message.clone())
    .bind(format_ts(i.created_at))
    .bind(format_ts(i.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, school: SchoolId, import: &str) -> Result<Option<Import>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM edexml_imports WHERE school_id = $1 AND id = $2"
    )))
    .bind(school.to_string())
    .bind(import.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The school's imports, newest first, without their rosters.
pub async fn history(conn: &mut Conn, school: SchoolId, limit: i64) -> Result<Vec<Import>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY_COLUMNS} FROM edexml_imports WHERE school_id = $1 AND status <> 'vervallen' \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(school.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Moves an import from one status to another; false when it was not in `from` (someone else
/// got there first, or it does not exist).
pub async fn transition(
    conn: &mut Conn,
    school: SchoolId,
    import: &str,
    from: Status,
    to: Status,
    now: OffsetDateTime,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE edexml_imports SET status = $1, updated_at = $2 WHERE school_id = $3 AND id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(import.to_string())
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the outcome: the report (or failure message), and the roster removed.
pub async fn finish(
    conn: &mut Conn,
    school: SchoolId,
    import: &str,
    status: Status,
    report: Option<&str>,
    message: Option<&str>,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "UPDATE edexml_imports SET status = $1, report = $2, message = $3, roster = NULL, updated_at = $4 \
         WHERE school_id = $5 AND id = $6",
    )
    .bind(status.as_str())
    .bind(report.map(String::from))
    .bind(message.map(String::from))
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(import.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Previews nobody confirmed before `before` lose their roster (pupil data is kept only as long
/// as it is needed); they leave the history.
pub async fn expire_previews(conn: &mut Conn, before: OffsetDateTime) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE edexml_imports SET status = 'vervallen', roster = NULL WHERE status = 'voorvertoning' AND updated_at < $1",
    )
    .bind(format_ts(before))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// (LAS key, user) of the school's teachers that came from an import.
pub async fn team_keys(conn: &mut Conn, school: SchoolId) -> Result<Vec<(String, UserId)>> {
    let rows = sqlx::query("SELECT las_key, user_id FROM team_las_keys WHERE school_id = $1")
        .bind(school.to_string())
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| Ok((text(r, "las_key")?, id(r, "user_id")?)))
        .collect()
}

pub async fn set_team_key(
    conn: &mut Conn,
    school: SchoolId,
    las_key: &str,
    user: UserId,
) -> Result<()> {
    sqlx::query("DELETE FROM team_las_keys WHERE school_id = $1 AND las_key = $2")
        .bind(school.to_string())
        .bind(las_key.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO team_las_keys (school_id, las_key, user_id) VALUES ($1, $2, $3)")
        .bind(school.to_string())
        .bind(las_key.to_string())
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
