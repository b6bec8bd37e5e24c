//! Results of pupils: what was measured, as given, and what processing derived from it (the
//! judgement or the error kind). A removed result is kept with `verwijderd_op`, never deleted.

use sqlx::Row;
use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::{Date, OffsetDateTime};

use crate::pupils::{format_date, parse_date};
use crate::support::{opt_text, rows_per_insert, text, ts};
use crate::{Conn, DbError, Result, format_ts};

/// A result row. The measured part is what was entered or received; the derived part is what
/// the last processing stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Resultaat {
    pub id: String,
    pub pupil_id: String,
    /// `handmatig` or `boom`.
    pub herkomst: String,
    /// None while the test is not yet in the catalogue with a vak.
    pub vak_id: Option<String>,
    pub toets_id: Option<String>,
    /// The test's name as entered or received (kept when the catalogue changes).
    pub toetsnaam: Option<String>,
    pub onderdeel: Option<String>,
    pub afnamedatum: Date,
    pub score: Option<String>,
    pub vaardigheidsscore: Option<String>,
    pub referentie_dle: Option<String>,
    pub referentie_fn: Option<String>,
    pub derived: Derived,
    pub ingevoerd_door: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What processing stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Derived {
    /// The DLE as written (`25,5`, `>60`) and its value in tenths for comparison.
    pub dle: Option<String>,
    pub dle_tenths: Option<i64>,
    pub dle_bron: Option<String>,
    pub fase: Option<i64>,
    pub toetsdoel_id: Option<String>,
    pub norm_ondergrens_tenths: Option<i64>,
    pub norm_streef_tenths: Option<i64>,
    /// `onder_norm`, `op_norm`, `op_streefniveau`.
    pub oordeel: Option<String>,
    /// `verwerkt` or `fout`.
    pub status: String,
    pub fout: Option<String>,
    pub verwerkt_op: Option<OffsetDateTime>,
}

const COLS: &str = "id, pupil_id, herkomst, vak_id, toets_id, toetsnaam, onderdeel, afnamedatum, \
    score, vaardigheidsscore, referentie_dle, referentie_fn, dle, dle_tenths, dle_bron, fase, toetsdoel_id, \
    norm_ondergrens_tenths, norm_streef_tenths, oordeel, status, fout, verwerkt_op, \
    ingevoerd_door, created_at";

fn opt_int(r: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(r.try_get::<Option<i64>, _>(col)?)
}

fn row(r: &AnyRow) -> Result<Resultaat> {
    let afname = text(r, "afnamedatum")?;
    Ok(Resultaat {
        id: text(r, "id")?,
        pupil_id: text(r, "pupil_id")?,
        herkomst: text(r, "herkomst")?,
        vak_id: opt_text(r, "vak_id")?,
        toets_id: opt_text(r, "toets_id")?,
        toetsnaam: opt_text(r, "toetsnaam")?,
        onderdeel: opt_text(r, "onderdeel")?,
        afnamedatum: parse_date(&afname).ok_or_else(|| {
            DbError::Sqlx(sqlx::Error::Decode(
                format!("bad afnamedatum: {afname}").into(),
            ))
        })?,
        score: opt_text(r, "score")?,
        vaardigheidsscore: opt_text(r, "vaardigheidsscore")?,
        referentie_dle: opt_text(r, "referentie_dle")?,
        referentie_fn: opt_text(r, "referentie_fn")?,
        derived: Derived {
            dle: opt_text(r, "dle")?,
            dle_tenths: opt_int(r, "dle_tenths")?,
            dle_bron: opt_text(r, "dle_bron")?,
            fase: opt_int(r, "fase")?,
            toetsdoel_id: opt_text(r, "toetsdoel_id")?,
            norm_ondergrens_tenths: opt_int(r, "norm_ondergrens_tenths")?,
            norm_streef_tenths: opt_int(r, "norm_streef_tenths")?,
            oordeel: opt_text(r, "oordeel")?,
            status: text(r, "status")?,
            fout: opt_text(r, "fout")?,
            verwerkt_op: Some(ts(r, "verwerkt_op")?),
        },
        ingevoerd_door: opt_text(r, "ingevoerd_door")?,
        created_at: ts(r, "created_at")?,
    })
}

/// Stores a new result with its processing outcome.
pub async fn insert(
    conn: &mut Conn,
    school: SchoolId,
    r: &Resultaat,
    now: OffsetDateTime,
) -> Result<()> {
    insert_many(conn, &[(school, r)], now).await
}

/// Stores new results, several to a statement (the UWLR intake writes a claimed batch at once).
pub async fn insert_many(
    conn: &mut Conn,
    rows: &[(SchoolId, &Resultaat)],
    now: OffsetDateTime,
) -> Result<()> {
    const N: usize = 26;
    let at = format_ts(now);
    for chunk in rows.chunks(rows_per_insert(conn)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=N).map(|c| format!("${}", i * N + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO resultaten ({COLS}, school_id) VALUES {}",
            values.join(", ")
        )));
        for (school, r) in chunk {
            let d = &r.derived;
            q = q
                .bind(r.id.clone())
                .bind(r.pupil_id.clone())
                .bind(r.herkomst.clone())
                .bind(r.vak_id.clone())
                .bind(r.toets_id.clone())
                .bind(r.toetsnaam.clone())
                .bind(r.onderdeel.clone())
                .bind(format_date(r.afnamedatum))
                .bind(r.score.clone())
                .bind(r.vaardigheidsscore.clone())
                .bind(r.referentie_dle.clone())
                .bind(r.referentie_fn.clone())
                .bind(d.dle.clone())
                .bind(d.dle_tenths)
                .bind(d.dle_bron.clone())
                .bind(d.fase)
                .bind(d.toetsdoel_id.clone())
                .bind(d.norm_ondergrens_tenths)
                .bind(d.norm_streef_tenths)
                .bind(d.oordeel.clone())
                .bind(d.status.clone())
                .bind(d.fout.clone())
                .bind(at.clone())
                .bind(r.ingevoerd_door.clone())
                .bind(format_ts(r.created_at))
                .bind(school.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Stores the outcome of processing a result again.
pub async fn set_derived(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
    d: &Derived,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "UPDATE resultaten SET dle = $1, dle_tenths = $2, dle_bron = $3, fase = $4, \
         toetsdoel_id = $5, norm_ondergrens_tenths = $6, norm_streef_tenths = $7, oordeel = $8, \
         status = $9, fout = $10, verwerkt_op = $11 WHERE school_id = $12 AND id = $13",
    )
    .bind(d.dle.clone())
    .bind(d.dle_tenths)
    .bind(d.dle_bron.clone())
    .bind(d.fase)
    .bind(d.toetsdoel_id.clone())
    .bind(d.norm_ondergrens_tenths)
    .bind(d.norm_streef_tenths)
    .bind(d.oordeel.clone())
    .bind(d.status.clone())
    .bind(d.fout.clone())
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// A pupil's results that are not removed, oldest first (by afnamedatum, then entry).
pub async fn of_pupil(conn: &mut Conn, school: SchoolId, pupil: &str) -> Result<Vec<Resultaat>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM resultaten WHERE school_id = $1 AND pupil_id = $2 \
         AND verwijderd_op IS NULL ORDER BY afnamedatum, created_at, id"
    )))
    .bind(school.to_string())
    .bind(pupil.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(row).collect()
}

/// All results of the given pupils that are not removed, per pupil oldest first.
pub async fn of_school(conn: &mut Conn, school: SchoolId) -> Result<Vec<Resultaat>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM resultaten WHERE school_id = $1 AND verwijderd_op IS NULL \
         ORDER BY pupil_id, afnamedatum, created_at, id"
    )))
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(row).collect()
}

pub async fn get(conn: &mut Conn, school: SchoolId, id: &str) -> Result<Option<Resultaat>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM resultaten WHERE school_id = $1 AND id = $2 AND verwijderd_op IS NULL"
    )))
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    r.as_ref().map(row).transpose()
}

/// A result, also when it was removed: (the result, whether it was removed).
pub async fn get_any(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
) -> Result<Option<(Resultaat, bool)>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS}, verwijderd_op FROM resultaten WHERE school_id = $1 AND id = $2"
    )))
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    r.as_ref()
        .map(|r| Ok((row(r)?, opt_text(r, "verwijderd_op")?.is_some())))
        .transpose()
}

/// Marks a result as removed (it stays in the database). Returns whether it was there.
pub async fn remove(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
    by: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE resultaten SET verwijderd_op = $1, verwijderd_door = $2 \
         WHERE school_id = $3 AND id = $4 AND verwijderd_op IS NULL",
    )
    .bind(format_ts(now))
    .bind(by.map(String::from))
    .bind(school.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces what was received and what processing derived, for a result that came from a
/// test provider (a later version of it, or a new match to a pupil).
pub async fn update_received(
    conn: &mut Conn,
    school: SchoolId,
    r: &Resultaat,
    now: OffsetDateTime,
) -> Result<()> {
    let d = &r.derived;
    sqlx::query(
        "UPDATE resultaten SET pupil_id = $1, vak_id = $2, toets_id = $3, toetsnaam = $4, \
         onderdeel = $5, afnamedatum = $6, score = $7, vaardigheidsscore = $8, referentie_dle = $9, \
         referentie_fn = $10, dle = $11, dle_tenths = $12, dle_bron = $13, fase = $14, \
         toetsdoel_id = $15, norm_ondergrens_tenths = $16, norm_streef_tenths = $17, oordeel = $18, \
         status = $19, fout = $20, verwerkt_op = $21 WHERE school_id = $22 AND id = $23",
    )
    .bind(r.pupil_id.clone())
    .bind(r.vak_id.clone())
    .bind(r.toets_id.clone())
    .bind(r.toetsnaam.clone())
    .bind(r.onderdeel.clone())
    .bind(format_date(r.afnamedatum))
    .bind(r.score.clone())
    .bind(r.vaardigheidsscore.clone())
    .bind(r.referentie_dle.clone())
    .bind(r.referentie_fn.clone())
    .bind(d.dle.clone())
    .bind(d.dle_tenths)
    .bind(d.dle_bron.clone())
    .bind(d.fase)
    .bind(d.toetsdoel_id.clone())
    .bind(d.norm_ondergrens_tenths)
    .bind(d.norm_streef_tenths)
    .bind(d.oordeel.clone())
    .bind(d.status.clone())
    .bind(d.fout.clone())
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(r.id.clone())
    .execute(conn)
    .await?;
    Ok(())
}

/// How many results of a school have an open error: results entered by hand with an error,
/// and received results with an error (those of known pupils also have a row here, so they are
/// counted once, from the received side).
pub async fn open_errors(conn: &mut Conn, school: SchoolId) -> Result<i64> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM resultaten WHERE school_id = $1 AND status = 'fout' \
         AND herkomst = 'handmatig' AND verwijderd_op IS NULL) \
         + (SELECT COUNT(*) FROM ontvangen_resultaten WHERE school_id = $1 AND status = 'fout') AS n",
    )
    .bind(school.to_string())
    .fetch_one(conn)
    .await?;
    Ok(r.try_get::<i64, _>("n")?)
}
