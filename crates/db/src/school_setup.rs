//! School Setup: the fase bands of a school (as typed, e.g. "6, 12, 18, 24") and its test
//! periods.

use startblok_domain::SchoolId;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::pupils::{format_date, parse_date};
use crate::support::text;
use crate::{Conn, DbError, Result, format_ts};

/// The school's fase bands as stored, or `None` for the default.
pub async fn fasegrenzen(conn: &mut Conn, school: SchoolId) -> Result<Option<String>> {
    let r = sqlx::query("SELECT fasegrenzen FROM school_setup WHERE school_id = $1")
        .bind(school.to_string())
        .fetch_optional(conn)
        .await?;
    r.as_ref().map(|r| text(r, "fasegrenzen")).transpose()
}

pub async fn set_fasegrenzen(
    conn: &mut Conn,
    school: SchoolId,
    value: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO school_setup (school_id, fasegrenzen, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (school_id) DO UPDATE SET fasegrenzen = excluded.fasegrenzen, \
         updated_at = excluded.updated_at",
    )
    .bind(school.to_string())
    .bind(value.to_string())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The school's DL month table as stored (`gestart` or `voltooid`), or `None` for the default.
pub async fn maandtabel(conn: &mut Conn, school: SchoolId) -> Result<Option<String>> {
    let r = sqlx::query("SELECT maandtabel FROM school_setup WHERE school_id = $1")
        .bind(school.to_string())
        .fetch_optional(conn)
        .await?;
    Ok(r.as_ref()
        .map(|r| crate::support::opt_text(r, "maandtabel"))
        .transpose()?
        .flatten())
}

pub async fn set_maandtabel(
    conn: &mut Conn,
    school: SchoolId,
    value: &str,
    default_fasegrenzen: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO school_setup (school_id, fasegrenzen, maandtabel, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (school_id) DO UPDATE SET maandtabel = excluded.maandtabel, \
         updated_at = excluded.updated_at",
    )
    .bind(school.to_string())
    .bind(default_fasegrenzen.to_string())
    .bind(value.to_string())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toetsperiode {
    pub id: String,
    pub naam: String,
    pub van: Date,
    pub tot_en_met: Date,
}

/// The school's test periods, by start date.
pub async fn toetsperiodes(conn: &mut Conn, school: SchoolId) -> Result<Vec<Toetsperiode>> {
    let rows = sqlx::query(
        "SELECT id, naam, van, tot_en_met FROM toetsperiodes WHERE school_id = $1 \
         ORDER BY van, naam",
    )
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    let date = |s: String| {
        parse_date(&s)
            .ok_or_else(|| DbError::Sqlx(sqlx::Error::Decode(format!("bad date: {s}").into())))
    };
    rows.iter()
        .map(|r| {
            Ok(Toetsperiode {
                id: text(r, "id")?,
                naam: text(r, "naam")?,
                van: date(text(r, "van")?)?,
                tot_en_met: date(text(r, "tot_en_met")?)?,
            })
        })
        .collect()
}

pub async fn add_toetsperiode(
    conn: &mut Conn,
    school: SchoolId,
    naam: &str,
    van: Date,
    tot_en_met: Date,
    now: OffsetDateTime,
) -> Result<String> {
    let id = Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO toetsperiodes (id, school_id, naam, van, tot_en_met, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.clone())
    .bind(school.to_string())
    .bind(naam.to_string())
    .bind(format_date(van))
    .bind(format_date(tot_en_met))
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(id)
}

/// Removes a test period of this school; whether it was there.
pub async fn remove_toetsperiode(conn: &mut Conn, school: SchoolId, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM toetsperiodes WHERE school_id = $1 AND id = $2")
        .bind(school.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
