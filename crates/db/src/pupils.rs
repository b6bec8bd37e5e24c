//! Pupils of a school, and the history Startblok keeps of their Boom-leerlingnummer, toetsdoel
//! and fase. Every function takes the school first: a pupil id alone never reaches a pupil.

use sqlx::Row;
use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::{Date, OffsetDateTime};

use crate::support::{opt_text, text, ts};
use crate::{Conn, DbError, Result, format_ts};

/// Everything stored about a pupil. Dates are calendar dates; text fields are as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pupil {
    pub id: String,
    pub las_key: Option<String>,
    pub eck_id: Option<String>,
    pub achternaam: String,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub geboortedatum: Option<Date>,
    pub geslacht: Option<String>,
    pub group_id: Option<String>,
    pub jaargroep: Option<String>,
    pub instroomdatum: Option<Date>,
    /// Start of groep 3 (from the LAS): where DL counts from.
    pub start_groep3: Option<Date>,
    pub uitstroomdatum: Option<Date>,
    /// Came from the LAS: identity fields are read-only.
    pub imported: bool,
    pub aankomst_nl: Option<Date>,
    pub aankomst_bron: Option<String>,
    pub start_nieuwkomers: Option<Date>,
    pub thuistalen: Option<String>,
    pub land_herkomst: Option<String>,
    pub jaren_onderwijs: Option<i64>,
    pub gealfabetiseerd_latijns: Option<bool>,
    pub leerroute: Option<String>,
    pub uitstroomprofiel: Option<String>,
    pub verwachte_uitstroom: Option<String>,
    pub boom_leerlingnummer: Option<String>,
    pub toetsdoel_id: Option<String>,
    pub uitgeschreven_op: Option<Date>,
}

impl Pupil {
    /// "Roepnaam voorvoegsel achternaam", as people say it.
    pub fn display_name(&self) -> String {
        let first = self
            .roepnaam
            .as_deref()
            .or(self.voornamen.as_deref())
            .unwrap_or("");
        [
            first,
            self.voorvoegsel.as_deref().unwrap_or(""),
            &self.achternaam,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// "Achternaam, roepnaam voorvoegsel", for sorted lists.
    pub fn sort_name(&self) -> String {
        let first = self
            .roepnaam
            .as_deref()
            .or(self.voornamen.as_deref())
            .unwrap_or("");
        let rest = [first, self.voorvoegsel.as_deref().unwrap_or("")]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        if rest.is_empty() {
            self.achternaam.clone()
        } else {
            format!("{}, {rest}", self.achternaam)
        }
    }

    fn naam_lower(&self) -> String {
        format!(
            "{} {} {} {}",
            self.achternaam,
            self.roepnaam.as_deref().unwrap_or(""),
            self.voornamen.as_deref().unwrap_or(""),
            self.voorvoegsel.as_deref().unwrap_or("")
        )
        .to_lowercase()
    }
}

pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &f).ok()
}

fn date(r: &AnyRow, col: &str) -> Result<Option<Date>> {
    Ok(opt_text(r, col)?.as_deref().and_then(parse_date))
}

fn opt_flag(r: &AnyRow, col: &str) -> Result<Option<bool>> {
    match r.try_get::<Option<bool>, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => Ok(r.try_get::<Option<i64>, _>(col)?.map(|v| v != 0)),
    }
}

const COLUMNS: &str = "id, las_key, eck_id, achternaam, voorvoegsel, voornamen, roepnaam, geboortedatum, \
    geslacht, group_id, jaargroep, instroomdatum, uitstroomdatum, imported, aankomst_nl, aankomst_bron, \
    start_nieuwkomers, thuistalen, land_herkomst, jaren_onderwijs, gealfabetiseerd_latijns, leerroute, \
    uitstroomprofiel, verwachte_uitstroom, boom_leerlingnummer, toetsdoel_id, uitgeschreven_op";

fn from_row(r: &AnyRow) -> Result<Pupil> {
    Ok(Pupil {
        id: text(r, "id")?,
        las_key: opt_text(r, "las_key")?,
        eck_id: opt_text(r, "eck_id")?,
        achternaam: text(r, "achternaam")?,
        voorvoegsel: opt_text(r, "voorvoegsel")?,
        voornamen: opt_text(r, "voornamen")?,
        roepnaam: opt_text(r, "roepnaam")?,
        geboortedatum: date(r, "geboortedatum")?,
        geslacht: opt_text(r, "geslacht")?,
        group_id: opt_text(r, "group_id")?,
        jaargroep: opt_text(r, "jaargroep")?,
        instroomdatum: date(r, "instroomdatum")?,
        start_groep3: date(r, "start_groep3")?,
        uitstroomdatum: date(r, "uitstroomdatum")?,
        imported: crate::support::flag(r, "imported")?,
        aankomst_nl: date(r, "aankomst_nl")?,
        aankomst_bron: opt_text(r, "aankomst_bron")?,
        start_nieuwkomers: date(r, "start_nieuwkomers")?,
        thuistalen: opt_text(r, "thuistalen")?,
        land_herkomst: opt_text(r, "land_herkomst")?,
        jaren_onderwijs: r.try_get::<Option<i64>, _>("jaren_onderwijs")?,
        gealfabetiseerd_latijns: opt_flag(r, "gealfabetiseerd_latijns")?,
        leerroute: opt_text(r, "leerroute")?,
        uitstroomprofiel: opt_text(r, "uitstroomprofiel")?,
        verwachte_uitstroom: opt_text(r, "verwachte_uitstroom")?,
        boom_leerlingnummer: opt_text(r, "boom_leerlingnummer")?,
        toetsdoel_id: opt_text(r, "toetsdoel_id")?,
        uitgeschreven_op: date(r, "uitgeschreven_op")?,
    })
}

/// Binds a pupil as `$1` (id) … `$27` (uitgeschreven_op) in [`COLUMNS`] order, then `$28`
/// school, `$29` naam_lower and `$30` the time: one binding for both insert and update.
fn bind_pupil<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    school: SchoolId,
    p: &Pupil,
    now: OffsetDateTime,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(p.id.clone())
        .bind(p.las_key.clone())
        .bind(p.eck_id.clone())
        .bind(p.achternaam.clone())
        .bind(p.voorvoegsel.clone())
        .bind(p.voornamen.clone())
        .bind(p.roepnaam.clone())
        .bind(p.geboortedatum.map(format_date))
        .bind(p.geslacht.clone())
        .bind(p.group_id.clone())
        .bind(p.jaargroep.clone())
        .bind(p.instroomdatum.map(format_date))
        .bind(p.uitstroomdatum.map(format_date))
        .bind(p.imported)
        .bind(p.aankomst_nl.map(format_date))
        .bind(p.aankomst_bron.clone())
        .bind(p.start_nieuwkomers.map(format_date))
        .bind(p.thuistalen.clone())
        .bind(p.land_herkomst.clone())
        .bind(p.jaren_onderwijs)
        .bind(p.gealfabetiseerd_latijns)
        .bind(p.leerroute.clone())
        .bind(p.uitstroomprofiel.clone())
        .bind(p.verwachte_uitstroom.clone())
        .bind(p.boom_leerlingnummer.clone())
        .bind(p.toetsdoel_id.clone())
        .bind(p.uitgeschreven_op.map(format_date))
        .bind(school.to_string())
        .bind(p.naam_lower())
        .bind(format_ts(now))
        .bind(p.start_groep3.map(format_date))
}

pub async fn insert(
    conn: &mut Conn,
    school: SchoolId,
    p: &Pupil,
    now: OffsetDateTime,
) -> Result<()> {
    let q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO pupils ({COLUMNS}, school_id, naam_lower, created_at, updated_at, start_groep3) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
          $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $30, $31)"
    )));
    bind_pupil(q, school, p, now).execute(conn).await?;
    Ok(())
}

/// Inserts many pupils with multi-row INSERTs (500 rows, 15,500 parameters per statement: under
/// SQLite's and PostgreSQL's limits). Used by the EDEXML import, where one statement per pupil
/// would dominate the time of a large first import.
pub async fn insert_many(
    conn: &mut Conn,
    school: SchoolId,
    pupils: &[Pupil],
    now: OffsetDateTime,
) -> Result<()> {
    const ROWS: usize = 500;
    // 31 values per pupil; the 30th (the time) is used for created_at and updated_at.
    const PARAMS: usize = 31;
    for chunk in pupils.chunks(ROWS) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * PARAMS;
                let cols = (1..=30)
                    .map(|k| format!("${}", b + k))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({cols}, ${}, ${})", b + 30, b + 31)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO pupils ({COLUMNS}, school_id, naam_lower, created_at, updated_at, start_groep3) VALUES {values}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            q = bind_pupil(q, school, p, now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes every field of the pupil (the caller decides which fields may change).
pub async fn update(
    conn: &mut Conn,
    school: SchoolId,
    p: &Pupil,
    now: OffsetDateTime,
) -> Result<()> {
    let q = sqlx::query(
        "UPDATE pupils SET las_key = $2, eck_id = $3, achternaam = $4, voorvoegsel = $5, voornamen = $6, \
         roepnaam = $7, geboortedatum = $8, geslacht = $9, group_id = $10, jaargroep = $11, \
         instroomdatum = $12, uitstroomdatum = $13, imported = $14, aankomst_nl = $15, aankomst_bron = $16, \
         start_nieuwkomers = $17, thuistalen = $18, land_herkomst = $19, jaren_onderwijs = $20, \
         gealfabetiseerd_latijns = $21, leerroute = $22, uitstroomprofiel = $23, verwachte_uitstroom = $24, \
         boom_leerlingnummer = $25, toetsdoel_id = $26, uitgeschreven_op = $27, naam_lower = $29, \
         updated_at = $30, start_groep3 = $31 WHERE id = $1 AND school_id = $28",
    );
    let done = bind_pupil(q, school, p, now).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Marks a pupil as uitgeschreven on `on` (and uitstroomdatum `on` when it has none): a pupil
/// missing from a later LAS export. Nothing else changes.
pub async fn mark_left(
    conn: &mut Conn,
    school: SchoolId,
    pupil: &str,
    on: Date,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "UPDATE pupils SET uitgeschreven_op = $1, uitstroomdatum = COALESCE(uitstroomdatum, $1), \
         updated_at = $2 WHERE school_id = $3 AND id = $4",
    )
    .bind(format_date(on))
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(pupil.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, school: SchoolId, pupil: &str) -> Result<Option<Pupil>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, start_groep3 FROM pupils WHERE school_id = $1 AND id = $2"
    )))
    .bind(school.to_string())
    .bind(pupil.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every pupil of the school (active and left), ordered by name. Lists filter in the app: a
/// school has hundreds of pupils, not millions.
pub async fn list(conn: &mut Conn, school: SchoolId) -> Result<Vec<Pupil>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, start_groep3 FROM pupils WHERE school_id = $1 ORDER BY naam_lower, id"
    )))
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The active pupil holding a Boom-leerlingnummer, if any.
pub async fn active_by_boom(
    conn: &mut Conn,
    school: SchoolId,
    number: &str,
) -> Result<Option<Pupil>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, start_groep3 FROM pupils WHERE school_id = $1 AND boom_leerlingnummer = $2 AND uitgeschreven_op IS NULL"
    )))
    .bind(school.to_string())
    .bind(number.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Sets (or clears) the Boom-leerlingnummer and records who did it.
pub async fn set_boom(
    conn: &mut Conn,
    school: SchoolId,
    pupil: &str,
    number: Option<&str>,
    by: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let done = sqlx::query("UPDATE pupils SET boom_leerlingnummer = $1, updated_at = $2 WHERE school_id = $3 AND id = $4")
        .bind(number.map(String::from))
        .bind(format_ts(now))
        .bind(school.to_string())
        .bind(pupil.to_string())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    sqlx::query(
        "INSERT INTO pupil_boom_history (id, pupil_id, school_id, value, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(pupil.to_string())
    .bind(school.to_string())
    .bind(number.map(String::from))
    .bind(format_ts(now))
    .bind(by.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Empties the Boom-leerlingnummer column without a history entry: only as the first step of
/// a transaction that then records the new value with [`set_boom`] (so numbers can be swapped).
pub async fn release_boom(conn: &mut Conn, school: SchoolId, pupil: &str) -> Result<()> {
    sqlx::query("UPDATE pupils SET boom_leerlingnummer = NULL WHERE school_id = $1 AND id = $2")
        .bind(school.to_string())
        .bind(pupil.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets (or clears) the toetsdoel from a date on, and records who did it.
pub async fn set_toetsdoel(
    conn: &mut Conn,
    school: SchoolId,
    pupil: &str,
    toetsdoel: Option<&str>,
    valid_from: Date,
    by: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE pupils SET toetsdoel_id = $1, updated_at = $2 WHERE school_id = $3 AND id = $4",
    )
    .bind(toetsdoel.map(String::from))
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(pupil.to_string())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    sqlx::query(
        "INSERT INTO pupil_toetsdoel_history (id, pupil_id, school_id, toetsdoel_id, valid_from, changed_at, changed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(pupil.to_string())
    .bind(school.to_string())
    .bind(toetsdoel.map(String::from))
    .bind(format_date(valid_from))
    .bind(format_ts(now))
    .bind(by.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// One change in a pupil's history: the new value, from when, when and by whom it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub value: Option<String>,
    pub valid_from: Option<Date>,
    pub changed_at: OffsetDateTime,
    pub changed_by: String,
}

pub async fn boom_history(conn: &mut Conn, school: SchoolId, pupil: &str) -> Result<Vec<Change>> {
    let rows = sqlx::query(
        "SELECT value, changed_at, changed_by FROM pupil_boom_history WHERE school_id = $1 AND pupil_id = $2 \
         ORDER BY changed_at DESC, id DESC",
    )
    .bind(school.to_string())
    .bind(pupil.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Change {
                value: opt_text(r, "value")?,
                valid_from: None,
                changed_at: ts(r, "changed_at")?,
                changed_by: text(r, "changed_by")?,
            })
        })
        .collect()
}

/// The toetsdoel history, newest first; `value` is the toetsdoel's id.
pub async fn toetsdoel_history(
    conn: &mut Conn,
    school: SchoolId,
    pupil: &str,
) -> Result<Vec<Change>> {
    let rows = sqlx::query(
        "SELECT toetsdoel_id, valid_from, changed_at, changed_by FROM pupil_toetsdoel_history \
         WHERE school_id = $1 AND pupil_id = $2 ORDER BY valid_from DESC, changed_at DESC, id DESC",
    )
    .bind(school.to_string())
    .bind(pupil.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Change {
                value: opt_text(r, "toetsdoel_id")?,
                valid_from: opt_text(r, "valid_from")?.as_deref().and_then(parse_date),
                changed_at: ts(r, "changed_at")?,
                changed_by: text(r, "changed_by")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaseRow {
    pub id: String,
    pub fase: i64,
    pub vanaf: Date,
    pub created_by: String,
}

pub async fn fase_entries(conn: &mut Conn, school: SchoolId, pupil: &str) -> Result<Vec<FaseRow>> {
    let rows = sqlx::query(
        "SELECT id, fase, vanaf, created_by FROM pupil_fase_entries WHERE school_id = $1 AND pupil_id = $2 ORDER BY vanaf",
    )
    .bind(school.to_string())
    .bind(pupil.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FaseRow {
                id: text(r, "id")?,
                fase: r.try_get::<i64, _>("fase")?,
                vanaf: opt_text(r, "vanaf")?
                    .as_deref()
                    .and_then(parse_date)
                    .ok_or(DbError::NotFound)?,
                created_by: text(r, "created_by")?,
            })
        })
        .collect()
}

pub async fn add_fase_entry(
    conn: &mut Conn,
    school: SchoolId,
    pupil: &str,
    fase: i64,
    vanaf: Date,
    by: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO pupil_fase_entries (id, pupil_id, school_id, fase, vanaf, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(pupil.to_string())
    .bind(school.to_string())
    .bind(fase)
    .bind(format_date(vanaf))
    .bind(format_ts(now))
    .bind(by.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_fase_entry(
    conn: &mut Conn,
    school: SchoolId,
    pupil: &str,
    entry: &str,
) -> Result<()> {
    let done = sqlx::query(
        "DELETE FROM pupil_fase_entries WHERE school_id = $1 AND pupil_id = $2 AND id = $3",
    )
    .bind(school.to_string())
    .bind(pupil.to_string())
    .bind(entry.to_string())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}
