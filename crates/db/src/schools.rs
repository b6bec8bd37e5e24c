//! Schools (vestigingen): naam, BRIN + dependancecode, optional schoolkey.

use sqlx::any::AnyRow;
use startblok_domain::{Brin, Dependance, SchoolCode, SchoolId};
use time::OffsetDateTime;

use crate::support::{id, opt_text, text, ts};
use crate::{Conn, DbError, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: SchoolId,
    pub naam: String,
    pub code: SchoolCode,
    pub schoolkey: Option<String>,
    pub created_at: OffsetDateTime,
}

fn from_row(r: &AnyRow) -> Result<School> {
    let brin = Brin::parse(&text(r, "brin")?).map_err(|_| DbError::NotFound)?;
    let dep = Dependance::parse(&text(r, "dependance")?).map_err(|_| DbError::NotFound)?;
    Ok(School {
        id: id(r, "id")?,
        naam: text(r, "naam")?,
        code: SchoolCode::new(brin, dep),
        schoolkey: opt_text(r, "schoolkey")?,
        created_at: ts(r, "created_at")?,
    })
}

const COLUMNS: &str = "s.id, s.naam, s.brin, s.dependance, s.schoolkey, s.created_at";

/// Inserts a school; an existing BRIN + dependance gives [`DbError::Duplicate`].
pub async fn insert(conn: &mut Conn, school: &School) -> Result<()> {
    sqlx::query(
        "INSERT INTO schools (id, naam, brin, dependance, schoolkey, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(school.id.to_string())
    .bind(school.naam.clone())
    .bind(school.code.brin.as_str().to_string())
    .bind(school.code.dependance.as_str().to_string())
    .bind(school.schoolkey.clone())
    .bind(format_ts(school.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut Conn, school: SchoolId) -> Result<Option<School>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM schools s WHERE s.id = $1"
    )))
    .bind(school.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_code(conn: &mut Conn, code: &SchoolCode) -> Result<Option<School>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM schools s WHERE s.brin = $1 AND s.dependance = $2"
    )))
    .bind(code.brin.as_str().to_string())
    .bind(code.dependance.as_str().to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The school with this schoolkey (the LAS's key of a school), if any.
pub async fn by_schoolkey(conn: &mut Conn, schoolkey: &str) -> Result<Option<School>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM schools s WHERE s.schoolkey = $1 LIMIT 1"
    )))
    .bind(schoolkey.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list_all(conn: &mut Conn) -> Result<Vec<School>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM schools s ORDER BY s.naam, s.brin, s.dependance"
    )))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
