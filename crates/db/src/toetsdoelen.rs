//! A school's toetsdoelen: the named trajectories a pupil is judged against (norms.md).

use sqlx::Row;
use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::OffsetDateTime;

use crate::support::{flag, text};
use crate::{Conn, DbError, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toetsdoel {
    pub id: String,
    pub code: String,
    pub naam: String,
    pub actief: bool,
    /// How many pupils have it now or had it (a toetsdoel in use cannot be deleted).
    pub in_use: i64,
}

fn from_row(r: &AnyRow) -> Result<Toetsdoel> {
    Ok(Toetsdoel {
        id: text(r, "id")?,
        code: text(r, "code")?,
        naam: text(r, "naam")?,
        actief: flag(r, "actief")?,
        in_use: r.try_get::<i64, _>("in_use")?,
    })
}

const SELECT: &str = "SELECT t.id, t.code, t.naam, t.actief, \
     (SELECT COUNT(*) FROM pupil_toetsdoel_history h WHERE h.toetsdoel_id = t.id) \
     + (SELECT COUNT(*) FROM pupils p WHERE p.toetsdoel_id = t.id) AS in_use FROM toetsdoelen t";

pub async fn list(conn: &mut Conn, school: SchoolId) -> Result<Vec<Toetsdoel>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE t.school_id = $1 ORDER BY t.code"
    )))
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(conn: &mut Conn, school: SchoolId, id: &str) -> Result<Option<Toetsdoel>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE t.school_id = $1 AND t.id = $2"
    )))
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Inserts a toetsdoel; a code the school already uses gives [`DbError::Duplicate`].
pub async fn insert(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
    code: &str,
    naam: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO toetsdoelen (id, school_id, code, naam, actief, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(school.to_string())
    .bind(code.to_string())
    .bind(naam.to_string())
    .bind(true)
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
    naam: &str,
    actief: bool,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE toetsdoelen SET naam = $1, actief = $2 WHERE school_id = $3 AND id = $4",
    )
    .bind(naam.to_string())
    .bind(actief)
    .bind(school.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn delete(conn: &mut Conn, school: SchoolId, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM toetsdoelen WHERE school_id = $1 AND id = $2")
        .bind(school.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}
