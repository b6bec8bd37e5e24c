//! Requests for a koppeling, from the public order form, until the operator processes or rejects
//! them. The sender's address is kept only as a hash, to limit how often one sender asks.

use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::OffsetDateTime;

use crate::support::{opt_text, opt_ts, text, ts};
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aanvraag {
    pub id: String,
    /// `nieuw` (a new school) or `bestaand` (an existing account).
    pub soort: String,
    pub schoolnaam: String,
    pub brin: String,
    pub dependance: String,
    pub contactnaam: String,
    pub email: String,
    pub telefoon: String,
    pub las: String,
    pub opmerking: String,
    /// `open`, `verwerkt` or `afgewezen`.
    pub status: String,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub decided_by: Option<String>,
    pub school_id: Option<SchoolId>,
}

const COLUMNS: &str = "id, soort, schoolnaam, brin, dependance, contactnaam, email, telefoon, las, \
     opmerking, status, created_at, decided_at, decided_by, school_id";

fn from_row(r: &AnyRow) -> Result<Aanvraag> {
    Ok(Aanvraag {
        id: text(r, "id")?,
        soort: text(r, "soort")?,
        schoolnaam: text(r, "schoolnaam")?,
        brin: text(r, "brin")?,
        dependance: text(r, "dependance")?,
        contactnaam: text(r, "contactnaam")?,
        email: text(r, "email")?,
        telefoon: text(r, "telefoon")?,
        las: text(r, "las")?,
        opmerking: text(r, "opmerking")?,
        status: text(r, "status")?,
        created_at: ts(r, "created_at")?,
        decided_at: opt_ts(r, "decided_at")?,
        decided_by: opt_text(r, "decided_by")?,
        school_id: opt_text(r, "school_id")?.and_then(|s| s.parse().ok()),
    })
}

pub async fn insert(conn: &mut Conn, a: &Aanvraag, source_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO koppeling_aanvragen (id, soort, schoolnaam, brin, dependance, contactnaam, email, \
         telefoon, las, opmerking, source_hash, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(a.id.clone())
    .bind(a.soort.clone())
    .bind(a.schoolnaam.clone())
    .bind(a.brin.clone())
    .bind(a.dependance.clone())
    .bind(a.contactnaam.clone())
    .bind(a.email.clone())
    .bind(a.telefoon.clone())
    .bind(a.las.clone())
    .bind(a.opmerking.clone())
    .bind(source_hash.to_string())
    .bind(a.status.clone())
    .bind(format_ts(a.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// How many requests one sender made since `since`.
pub async fn count_from(conn: &mut Conn, source_hash: &str, since: OffsetDateTime) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM koppeling_aanvragen WHERE source_hash = $1 AND created_at > $2",
    )
    .bind(source_hash.to_string())
    .bind(format_ts(since))
    .fetch_one(conn)
    .await?;
    Ok(sqlx::Row::try_get::<i64, _>(&row, "n")?)
}

/// Requests with a status, oldest open first; decided ones newest first.
pub async fn with_status(conn: &mut Conn, status: &str) -> Result<Vec<Aanvraag>> {
    let order = if status == "open" {
        "created_at, id"
    } else {
        "decided_at DESC, id DESC"
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM koppeling_aanvragen WHERE status = $1 ORDER BY {order}"
    )))
    .bind(status.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn by_id(conn: &mut Conn, id: &str) -> Result<Option<Aanvraag>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM koppeling_aanvragen WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Decides an open request (`verwerkt` or `afgewezen`); false when it was no longer open.
pub async fn decide(
    conn: &mut Conn,
    id: &str,
    status: &str,
    by: &str,
    school: Option<SchoolId>,
    now: OffsetDateTime,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE koppeling_aanvragen SET status = $2, decided_by = $3, school_id = $4, decided_at = $5 \
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id.to_string())
    .bind(status.to_string())
    .bind(by.to_string())
    .bind(school.map(|s| s.to_string()))
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
