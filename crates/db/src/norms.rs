//! A school's vakken and DLE norms (norms.md): per (toetsdoel, vak, fase) an ondergrens and a
//! streef, in tenths of a month.

use sqlx::Row;
use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::text;
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vak {
    pub id: String,
    pub naam: String,
    pub position: i64,
}

fn vak(r: &AnyRow) -> Result<Vak> {
    Ok(Vak {
        id: text(r, "id")?,
        naam: text(r, "naam")?,
        position: r.try_get::<i64, _>("position")?,
    })
}

pub async fn vakken(conn: &mut Conn, school: SchoolId) -> Result<Vec<Vak>> {
    let rows = sqlx::query(
        "SELECT id, naam, position FROM vakken WHERE school_id = $1 ORDER BY position, naam_lower",
    )
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(vak).collect()
}

/// Adds a vak unless one with the same name (any case) is there, also when another transaction
/// adds it at the same moment (no error, which would abort a PostgreSQL transaction).
pub async fn insert_vak_if_absent(
    conn: &mut Conn,
    school: SchoolId,
    naam: &str,
    position: i64,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO vakken (id, school_id, naam, naam_lower, position, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (school_id, naam_lower) DO NOTHING",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(school.to_string())
    .bind(naam.to_string())
    .bind(naam.to_lowercase())
    .bind(position)
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// One norm row, by ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormRow {
    pub toetsdoel_id: String,
    pub vak_id: String,
    pub fase: i64,
    pub ondergrens_tenths: i64,
    pub streef_tenths: i64,
}

pub async fn normen(conn: &mut Conn, school: SchoolId) -> Result<Vec<NormRow>> {
    let rows = sqlx::query(
        "SELECT toetsdoel_id, vak_id, fase, ondergrens_tenths, streef_tenths FROM dle_normen \
         WHERE school_id = $1 ORDER BY toetsdoel_id, vak_id, fase",
    )
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NormRow {
                toetsdoel_id: text(r, "toetsdoel_id")?,
                vak_id: text(r, "vak_id")?,
                fase: r.try_get::<i64, _>("fase")?,
                ondergrens_tenths: r.try_get::<i64, _>("ondergrens_tenths")?,
                streef_tenths: r.try_get::<i64, _>("streef_tenths")?,
            })
        })
        .collect()
}

/// Sets a norm (insert or replace).
pub async fn upsert_norm(
    conn: &mut Conn,
    school: SchoolId,
    n: &NormRow,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dle_normen (school_id, toetsdoel_id, vak_id, fase, ondergrens_tenths, streef_tenths, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (toetsdoel_id, vak_id, fase) DO UPDATE SET \
         ondergrens_tenths = excluded.ondergrens_tenths, streef_tenths = excluded.streef_tenths, \
         updated_at = excluded.updated_at",
    )
    .bind(school.to_string())
    .bind(n.toetsdoel_id.clone())
    .bind(n.vak_id.clone())
    .bind(n.fase)
    .bind(n.ondergrens_tenths)
    .bind(n.streef_tenths)
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the norm of (toetsdoel, vak, fase) of this school, if there is one.
pub async fn delete_norm(
    conn: &mut Conn,
    school: SchoolId,
    toetsdoel: &str,
    vak: &str,
    fase: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM dle_normen WHERE school_id = $1 AND toetsdoel_id = $2 AND vak_id = $3 \
         AND fase = $4",
    )
    .bind(school.to_string())
    .bind(toetsdoel.to_string())
    .bind(vak.to_string())
    .bind(fase)
    .execute(conn)
    .await?;
    Ok(())
}
