//! The test catalogue of a school (norms.md): tests with their onderdelen, each mapped to a vak,
//! and the conversion tables that turn a score into a DLE.

use sqlx::Row;
use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::{opt_text, text};
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toets {
    pub id: String,
    pub leverancier: String,
    pub toetscode: String,
    pub versie: String,
    pub naam: String,
    pub vak_id: Option<String>,
    pub onderdelen: Vec<String>,
}

/// A new catalogue entry.
#[derive(Debug, Clone)]
pub struct NewToets<'a> {
    pub leverancier: &'a str,
    pub toetscode: &'a str,
    pub versie: &'a str,
    pub naam: &'a str,
    pub vak_id: Option<&'a str>,
    pub onderdelen: &'a [String],
}

fn toets(r: &AnyRow) -> Result<Toets> {
    Ok(Toets {
        id: text(r, "id")?,
        leverancier: text(r, "leverancier")?,
        toetscode: text(r, "toetscode")?,
        versie: text(r, "versie")?,
        naam: text(r, "naam")?,
        vak_id: opt_text(r, "vak_id")?,
        onderdelen: Vec::new(),
    })
}

/// The catalogue, by name, each with its onderdelen in order.
pub async fn list(conn: &mut Conn, school: SchoolId) -> Result<Vec<Toets>> {
    let rows = sqlx::query(
        "SELECT id, leverancier, toetscode, versie, naam, vak_id FROM toetsen \
         WHERE school_id = $1 ORDER BY naam, toetscode, versie",
    )
    .bind(school.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut list: Vec<Toets> = rows.iter().map(toets).collect::<Result<_>>()?;
    let parts = sqlx::query(
        "SELECT o.toets_id, o.code FROM toetsonderdelen o JOIN toetsen t ON t.id = o.toets_id \
         WHERE t.school_id = $1 ORDER BY o.toets_id, o.position",
    )
    .bind(school.to_string())
    .fetch_all(&mut *conn)
    .await?;
    for r in &parts {
        let tid = text(r, "toets_id")?;
        if let Some(t) = list.iter_mut().find(|t| t.id == tid) {
            t.onderdelen.push(text(r, "code")?);
        }
    }
    Ok(list)
}

/// Adds a test unless the same (leverancier, toetscode, versie) is there already (also when
/// another transaction adds it at the same moment: no error, which would abort a PostgreSQL
/// transaction). Returns the new id, or `None` when it was there.
pub async fn insert_if_absent(
    conn: &mut Conn,
    school: SchoolId,
    t: &NewToets<'_>,
    now: OffsetDateTime,
) -> Result<Option<String>> {
    let id = Uuid::now_v7().to_string();
    let done = sqlx::query(
        "INSERT INTO toetsen (id, school_id, leverancier, toetscode, versie, naam, vak_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (school_id, leverancier, toetscode, versie) DO NOTHING",
    )
    .bind(id.clone())
    .bind(school.to_string())
    .bind(t.leverancier.to_string())
    .bind(t.toetscode.to_string())
    .bind(t.versie.to_string())
    .bind(t.naam.to_string())
    .bind(t.vak_id.map(String::from))
    .bind(format_ts(now))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    for (i, code) in t.onderdelen.iter().enumerate() {
        sqlx::query("INSERT INTO toetsonderdelen (toets_id, code, position) VALUES ($1, $2, $3)")
            .bind(id.clone())
            .bind(code.clone())
            .bind(i as i64)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(id))
}

/// One line of a conversion table as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversieRegel {
    pub toets_id: String,
    /// `""`: the whole test.
    pub onderdeel: String,
    /// `score` or `vaardigheidsscore`.
    pub bron: String,
    pub van: f64,
    pub tot_en_met: f64,
    pub dle_tenths: i64,
}

/// All conversion lines of a school, per (toets, onderdeel) in increasing `van`.
pub async fn conversieregels(conn: &mut Conn, school: SchoolId) -> Result<Vec<ConversieRegel>> {
    let rows = sqlx::query(
        "SELECT toets_id, onderdeel, bron, van, tot_en_met, dle_tenths FROM conversieregels \
         WHERE school_id = $1 ORDER BY toets_id, onderdeel, van",
    )
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ConversieRegel {
                toets_id: text(r, "toets_id")?,
                onderdeel: text(r, "onderdeel")?,
                bron: text(r, "bron")?,
                van: r.try_get::<f64, _>("van")?,
                tot_en_met: r.try_get::<f64, _>("tot_en_met")?,
                dle_tenths: r.try_get::<i64, _>("dle_tenths")?,
            })
        })
        .collect()
}

/// Replaces the conversion table of (toets, onderdeel) with `lines`.
pub async fn replace_table(
    conn: &mut Conn,
    school: SchoolId,
    toets_id: &str,
    onderdeel: &str,
    lines: &[ConversieRegel],
) -> Result<()> {
    sqlx::query(
        "DELETE FROM conversieregels WHERE school_id = $1 AND toets_id = $2 AND onderdeel = $3",
    )
    .bind(school.to_string())
    .bind(toets_id.to_string())
    .bind(onderdeel.to_string())
    .execute(&mut *conn)
    .await?;
    for l in lines {
        sqlx::query(
            "INSERT INTO conversieregels (school_id, toets_id, onderdeel, bron, van, tot_en_met, dle_tenths) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(school.to_string())
        .bind(toets_id.to_string())
        .bind(onderdeel.to_string())
        .bind(l.bron.clone())
        .bind(l.van)
        .bind(l.tot_en_met)
        .bind(l.dle_tenths)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Changes a test's name, vak and onderdelen (the onderdelen are replaced, in the given order).
pub async fn update(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
    naam: &str,
    vak_id: Option<&str>,
    onderdelen: &[String],
) -> Result<()> {
    sqlx::query("UPDATE toetsen SET naam = $1, vak_id = $2 WHERE school_id = $3 AND id = $4")
        .bind(naam.to_string())
        .bind(vak_id.map(String::from))
        .bind(school.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE FROM toetsonderdelen WHERE toets_id IN \
         (SELECT id FROM toetsen WHERE school_id = $1 AND id = $2)",
    )
    .bind(school.to_string())
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    for (i, code) in onderdelen.iter().enumerate() {
        sqlx::query("INSERT INTO toetsonderdelen (toets_id, code, position) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(code.clone())
            .bind(i as i64)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
