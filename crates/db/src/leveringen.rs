//! UWLR intake storage (uwlr-intake.md): deliveries (leveringen), the results received in them
//! keyed by their identity with a history of earlier versions, claims for processing, and the
//! log of refused calls.
//!
//! Claiming: a worker takes due rows by setting `geclaimd_tot` in one `UPDATE … RETURNING`; on
//! PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so app processes that
//! share a database never take the same row at once. A claim that is not finished (a crash)
//! runs out and the row is taken again; processing is idempotent.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use sqlx::any::AnyRow;
use startblok_domain::SchoolId;
use time::OffsetDateTime;

use crate::support::{opt_text, opt_ts, rows_per_insert, text, ts};
use crate::{Conn, Result, format_ts};

fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name() == "PostgreSQL"
}

fn int(r: &AnyRow, col: &str) -> Result<i64> {
    Ok(r.try_get::<i64, _>(col)?)
}

/// A new delivery, before its results are stored.
#[derive(Debug, Clone)]
pub struct NewLevering {
    pub id: String,
    pub school_id: SchoolId,
    pub koppeling_id: String,
    pub ontvangen_op: OffsetDateTime,
    pub schooljaar: String,
    pub aanmaakdatum: Option<String>,
    pub auteur: Option<String>,
    pub xsdversie: Option<String>,
    pub sha256: String,
    pub grootte: i64,
    pub body_bewaard_tot: OffsetDateTime,
    pub herhaling_van: Option<String>,
    pub aantal: i64,
}

/// A delivery as shown, with the state of the results whose current version it brought.
#[derive(Debug, Clone)]
pub struct Levering {
    pub id: String,
    pub koppeling_id: String,
    pub ontvangen_op: OffsetDateTime,
    pub schooljaar: String,
    pub aanmaakdatum: Option<String>,
    pub auteur: Option<String>,
    pub xsdversie: Option<String>,
    pub sha256: String,
    pub grootte: i64,
    pub body_bewaard: bool,
    pub herhaling_van: Option<String>,
    pub aantal: i64,
    pub nieuw: i64,
    pub gewijzigd: i64,
    pub ongewijzigd: i64,
    pub verwerkt: i64,
    pub fouten: i64,
    pub wachtend: i64,
}

/// Stores a delivery (its raw body goes in with `insert_body`).
pub async fn insert_levering(conn: &mut Conn, l: &NewLevering) -> Result<()> {
    sqlx::query(
        "INSERT INTO leveringen (id, school_id, koppeling_id, ontvangen_op, schooljaar, \
         aanmaakdatum, auteur, xsdversie, sha256, grootte, body_bewaard_tot, herhaling_van, \
         aantal, nieuw, gewijzigd, ongewijzigd) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, 0, 0)",
    )
    .bind(l.id.clone())
    .bind(l.school_id.to_string())
    .bind(l.koppeling_id.clone())
    .bind(format_ts(l.ontvangen_op))
    .bind(l.schooljaar.clone())
    .bind(l.aanmaakdatum.clone())
    .bind(l.auteur.clone())
    .bind(l.xsdversie.clone())
    .bind(l.sha256.clone())
    .bind(l.grootte)
    .bind(format_ts(l.body_bewaard_tot))
    .bind(l.herhaling_van.clone())
    .bind(l.aantal)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_counts(
    conn: &mut Conn,
    levering: &str,
    nieuw: i64,
    gewijzigd: i64,
    ongewijzigd: i64,
) -> Result<()> {
    sqlx::query("UPDATE leveringen SET nieuw = $1, gewijzigd = $2, ongewijzigd = $3 WHERE id = $4")
        .bind(nieuw)
        .bind(gewijzigd)
        .bind(ongewijzigd)
        .bind(levering.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// The first delivery of this koppeling with exactly these bytes, if any.
pub async fn original_of(conn: &mut Conn, koppeling: &str, sha256: &str) -> Result<Option<String>> {
    let r = sqlx::query(
        "SELECT id FROM leveringen WHERE koppeling_id = $1 AND sha256 = $2 \
         AND herhaling_van IS NULL ORDER BY ontvangen_op LIMIT 1",
    )
    .bind(koppeling.to_string())
    .bind(sha256.to_string())
    .fetch_optional(conn)
    .await?;
    r.map(|r| text(&r, "id")).transpose()
}

const LEVERING_COLS: &str = "l.id, l.koppeling_id, l.ontvangen_op, l.schooljaar, l.aanmaakdatum, \
    l.auteur, l.xsdversie, l.sha256, l.grootte, CASE WHEN l.body IS NOT NULL OR EXISTS (SELECT 1 FROM levering_berichtdelen d \
    WHERE d.levering_id = l.id) THEN 1 ELSE 0 END AS bewaard, \
    l.herhaling_van, l.aantal, l.nieuw, l.gewijzigd, l.ongewijzigd, \
    (SELECT COUNT(*) FROM ontvangen_resultaten o WHERE o.levering_id = l.id AND o.status = 'verwerkt') AS verwerkt, \
    (SELECT COUNT(*) FROM ontvangen_resultaten o WHERE o.levering_id = l.id AND o.status = 'fout') AS fouten, \
    (SELECT COUNT(*) FROM ontvangen_resultaten o WHERE o.levering_id = l.id AND o.status = 'nieuw') AS wachtend";

fn levering_row(r: &AnyRow) -> Result<Levering> {
    Ok(Levering {
        id: text(r, "id")?,
        koppeling_id: text(r, "koppeling_id")?,
        ontvangen_op: ts(r, "ontvangen_op")?,
        schooljaar: text(r, "schooljaar")?,
        aanmaakdatum: opt_text(r, "aanmaakdatum")?,
        auteur: opt_text(r, "auteur")?,
        xsdversie: opt_text(r, "xsdversie")?,
        sha256: text(r, "sha256")?,
        grootte: int(r, "grootte")?,
        body_bewaard: int(r, "bewaard")? == 1,
        herhaling_van: opt_text(r, "herhaling_van")?,
        aantal: int(r, "aantal")?,
        nieuw: int(r, "nieuw")?,
        gewijzigd: int(r, "gewijzigd")?,
        ongewijzigd: int(r, "ongewijzigd")?,
        verwerkt: int(r, "verwerkt")?,
        fouten: int(r, "fouten")?,
        wachtend: int(r, "wachtend")?,
    })
}

/// A school's deliveries, newest first, one page.
pub async fn of_school(
    conn: &mut Conn,
    school: SchoolId,
    offset: i64,
    limit: i64,
) -> Result<Vec<Levering>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {LEVERING_COLS} FROM leveringen l WHERE l.school_id = $1 \
         ORDER BY l.ontvangen_op DESC, l.id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(school.to_string())
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    rows.iter().map(levering_row).collect()
}

pub async fn count_of_school(conn: &mut Conn, school: SchoolId) -> Result<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM leveringen WHERE school_id = $1")
        .bind(school.to_string())
        .fetch_one(conn)
        .await?;
    int(&r, "n")
}

pub async fn get(conn: &mut Conn, school: SchoolId, id: &str) -> Result<Option<Levering>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {LEVERING_COLS} FROM leveringen l WHERE l.school_id = $1 AND l.id = $2"
    )))
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    r.as_ref().map(levering_row).transpose()
}

/// Forgets raw bodies whose retention has passed. Returns how many rows (pieces, or whole
/// bodies of deliveries stored before the pieces) were removed.
pub async fn drop_old_bodies(conn: &mut Conn, now: OffsetDateTime) -> Result<u64> {
    let at = format_ts(now);
    let parts = sqlx::query(
        "DELETE FROM levering_berichtdelen WHERE levering_id IN \
         (SELECT id FROM leveringen WHERE body_bewaard_tot < $1)",
    )
    .bind(at.clone())
    .execute(&mut *conn)
    .await?;
    let whole = sqlx::query(
        "UPDATE leveringen SET body = NULL WHERE body IS NOT NULL AND body_bewaard_tot < $1",
    )
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(whole.rows_affected() + parts.rows_affected())
}

/// The largest piece of a raw body stored in one row (bytes; cut at a character boundary).
const PIECE: usize = 256 * 1024;

/// Stores a delivery's raw body in pieces of at most `PIECE` bytes, one statement each, so a
/// large message is never put whole into one statement.
pub async fn insert_body(conn: &mut Conn, levering: &str, body: &str) -> Result<()> {
    let mut rest = body;
    let mut deel = 0_i64;
    while !rest.is_empty() {
        let mut cut = rest.len().min(PIECE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, after) = rest.split_at(cut);
        sqlx::query(
            "INSERT INTO levering_berichtdelen (levering_id, deel, inhoud) VALUES ($1, $2, $3)",
        )
        .bind(levering.to_string())
        .bind(deel)
        .bind(piece.to_string())
        .execute(&mut *conn)
        .await?;
        deel += 1;
        rest = after;
    }
    Ok(())
}

/// A delivery's raw body as received, while it is kept.
pub async fn raw_body(conn: &mut Conn, levering: &str) -> Result<Option<String>> {
    let whole = sqlx::query("SELECT body FROM leveringen WHERE id = $1")
        .bind(levering.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(b) = whole
        .as_ref()
        .map(|r| opt_text(r, "body"))
        .transpose()?
        .flatten()
    {
        return Ok(Some(b));
    }
    let parts = sqlx::query(
        "SELECT inhoud FROM levering_berichtdelen WHERE levering_id = $1 ORDER BY deel",
    )
    .bind(levering.to_string())
    .fetch_all(&mut *conn)
    .await?;
    if parts.is_empty() {
        return Ok(None);
    }
    let mut body = String::new();
    for p in &parts {
        body.push_str(&text(p, "inhoud")?);
    }
    Ok(Some(body))
}

/// The identity of a received result (uwlr-intake.md); absent versie/onderdeel are ''.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub leerlingid: String,
    pub toetscode: String,
    pub versie: String,
    pub onderdeel: String,
    pub afnamedatum: String,
}

/// A received result to store: its identity, its content (JSON) and the content's hash.
#[derive(Debug, Clone)]
pub struct NewReceived {
    pub id: String,
    pub identity: Identity,
    pub inhoud_sha256: String,
    pub gegevens: String,
}

/// What is stored of an identity now.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub inhoud_sha256: String,
}

/// The stored results of a koppeling with these identities (only those: memory and work stay
/// bounded by the batch asked about, however long the pupils' histories are).
pub async fn existing(
    conn: &mut Conn,
    koppeling: &str,
    ids: &[&Identity],
) -> Result<HashMap<Identity, Stored>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        // The pupils (the index's second column, so only their rows are read) on the dates
        // asked about: a little more than the identities asked, never a pupil's whole history.
        // The exact identities are picked out below. (A row-value list with the exact
        // identities was slower on SQLite: measured.)
        let mut leerlingen: Vec<&str> = chunk.iter().map(|i| i.leerlingid.as_str()).collect();
        leerlingen.sort_unstable();
        leerlingen.dedup();
        let mut data: Vec<&str> = chunk.iter().map(|i| i.afnamedatum.as_str()).collect();
        data.sort_unstable();
        data.dedup();
        let marks = |from: usize, n: usize| -> String {
            (0..n)
                .map(|i| format!("${}", from + i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!(
            "SELECT id, leerlingid, toetscode, versie, onderdeel, afnamedatum, inhoud_sha256 \
             FROM ontvangen_resultaten WHERE koppeling_id = $1 AND leerlingid IN ({}) \
             AND afnamedatum IN ({})",
            marks(2, leerlingen.len()),
            marks(2 + leerlingen.len(), data.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(koppeling.to_string());
        for l in &leerlingen {
            q = q.bind(l.to_string());
        }
        for d in &data {
            q = q.bind(d.to_string());
        }
        let wanted: std::collections::HashSet<&Identity> = chunk.iter().copied().collect();
        for r in q.fetch_all(&mut *conn).await? {
            let identity = Identity {
                leerlingid: text(&r, "leerlingid")?,
                toetscode: text(&r, "toetscode")?,
                versie: text(&r, "versie")?,
                onderdeel: text(&r, "onderdeel")?,
                afnamedatum: text(&r, "afnamedatum")?,
            };
            if !wanted.contains(&identity) {
                continue;
            }
            out.insert(
                identity,
                Stored {
                    id: text(&r, "id")?,
                    inhoud_sha256: text(&r, "inhoud_sha256")?,
                },
            );
        }
    }
    Ok(out)
}

/// Stores new results (many rows per statement). An identity that another transaction stored
/// meanwhile is skipped; the ids that were stored are returned.
pub async fn insert_new(
    conn: &mut Conn,
    school: SchoolId,
    koppeling: &str,
    levering: &str,
    rows: &[NewReceived],
    now: OffsetDateTime,
) -> Result<Vec<String>> {
    const COLS: usize = 15;
    let mut stored = Vec::with_capacity(rows.len());
    let at = format_ts(now);
    for chunk in rows.chunks(rows_per_insert(conn)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * COLS;
                let marks: Vec<String> = (1..=COLS).map(|c| format!("${}", b + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO ontvangen_resultaten (id, school_id, koppeling_id, leerlingid, toetscode, \
             versie, onderdeel, afnamedatum, levering_id, versie_nr, inhoud_sha256, gegevens, \
             te_verwerken, status, created_at) VALUES {} \
             ON CONFLICT (koppeling_id, leerlingid, toetscode, versie, onderdeel, afnamedatum) \
             DO NOTHING RETURNING id",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id.clone())
                .bind(school.to_string())
                .bind(koppeling.to_string())
                .bind(r.identity.leerlingid.clone())
                .bind(r.identity.toetscode.clone())
                .bind(r.identity.versie.clone())
                .bind(r.identity.onderdeel.clone())
                .bind(r.identity.afnamedatum.clone())
                .bind(levering.to_string())
                .bind(1_i64)
                .bind(r.inhoud_sha256.clone())
                .bind(r.gegevens.clone())
                .bind(1_i64)
                .bind("nieuw".to_string())
                .bind(at.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            stored.push(text(&r, "id")?);
        }
    }
    Ok(stored)
}

/// Replaces a stored result by a new version unless it already has this content: the old
/// version goes to the history and the result is due for processing again. Returns whether it
/// was replaced (false: the content was the same, so the result is unchanged).
pub async fn replace(
    conn: &mut Conn,
    id: &str,
    levering: &str,
    inhoud_sha256: &str,
    gegevens: &str,
    now: OffsetDateTime,
) -> Result<bool> {
    // Lock the row first on PostgreSQL, so two deliveries changing it wait for each other.
    let lock = if is_postgres(conn) { " FOR UPDATE" } else { "" };
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT versie_nr, inhoud_sha256, levering_id, gegevens FROM ontvangen_resultaten \
         WHERE id = $1{lock}"
    )))
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    if text(&r, "inhoud_sha256")? == inhoud_sha256 {
        return Ok(false);
    }
    let versie_nr = int(&r, "versie_nr")?;
    sqlx::query(
        "INSERT INTO ontvangen_resultaat_versies (ontvangen_resultaat_id, versie_nr, levering_id, \
         gegevens, vervangen_op) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(versie_nr)
    .bind(text(&r, "levering_id")?)
    .bind(text(&r, "gegevens")?)
    .bind(format_ts(now))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE ontvangen_resultaten SET versie_nr = $1, inhoud_sha256 = $2, gegevens = $3, \
         levering_id = $4, te_verwerken = 1, geclaimd_tot = NULL, status = 'nieuw', fout = NULL, \
         genegeerd_reden = NULL WHERE id = $5",
    )
    .bind(versie_nr + 1)
    .bind(inhoud_sha256.to_string())
    .bind(gegevens.to_string())
    .bind(levering.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(true)
}

/// A received result as processing and the screens see it.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub school_id: SchoolId,
    pub koppeling_id: String,
    pub identity: Identity,
    pub levering_id: String,
    pub versie_nr: i64,
    pub gegevens: String,
    pub status: String,
    pub fout: Option<String>,
    pub genegeerd_reden: Option<String>,
    pub pupil_id: Option<String>,
    pub resultaat_id: Option<String>,
    pub verwerkt_op: Option<OffsetDateTime>,
}

const RECEIVED_COLS: &str = "id, school_id, koppeling_id, leerlingid, toetscode, versie, onderdeel, \
    afnamedatum, levering_id, versie_nr, gegevens, status, fout, genegeerd_reden, pupil_id, \
    resultaat_id, verwerkt_op";

fn received_row(r: &AnyRow) -> Result<Received> {
    Ok(Received {
        id: text(r, "id")?,
        school_id: crate::support::id(r, "school_id")?,
        koppeling_id: text(r, "koppeling_id")?,
        identity: Identity {
            leerlingid: text(r, "leerlingid")?,
            toetscode: text(r, "toetscode")?,
            versie: text(r, "versie")?,
            onderdeel: text(r, "onderdeel")?,
            afnamedatum: text(r, "afnamedatum")?,
        },
        levering_id: text(r, "levering_id")?,
        versie_nr: int(r, "versie_nr")?,
        gegevens: text(r, "gegevens")?,
        status: text(r, "status")?,
        fout: opt_text(r, "fout")?,
        genegeerd_reden: opt_text(r, "genegeerd_reden")?,
        pupil_id: opt_text(r, "pupil_id")?,
        resultaat_id: opt_text(r, "resultaat_id")?,
        verwerkt_op: opt_ts(r, "verwerkt_op")?,
    })
}

/// Which received results a claim takes.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Everything due, of any school (the worker).
    Due,
    /// A school's open errors (after a fix).
    SchoolErrors(SchoolId),
    /// All of a school's results, or those of one pupil (after a change to the school's data).
    School(SchoolId),
    Pupil(SchoolId, String),
    /// The results a delivery brought.
    Levering(SchoolId, String),
    /// One result.
    One(SchoolId, String),
}

fn filter(scope: &Scope) -> (&'static str, Option<String>, Option<String>) {
    match scope {
        Scope::Due => ("1 = 1", None, None),
        Scope::SchoolErrors(s) => (
            "school_id = $4 AND status = 'fout'",
            Some(s.to_string()),
            None,
        ),
        Scope::School(s) => (
            "school_id = $4 AND status <> 'genegeerd'",
            Some(s.to_string()),
            None,
        ),
        Scope::Pupil(s, p) => (
            "school_id = $4 AND pupil_id = $5 AND status <> 'genegeerd'",
            Some(s.to_string()),
            Some(p.clone()),
        ),
        Scope::Levering(s, l) => (
            "school_id = $4 AND levering_id = $5 AND status <> 'genegeerd'",
            Some(s.to_string()),
            Some(l.clone()),
        ),
        Scope::One(s, id) => (
            "school_id = $4 AND id = $5",
            Some(s.to_string()),
            Some(id.clone()),
        ),
    }
}

/// Makes the results of a scope due for processing again. Returns how many.
pub async fn mark_due(conn: &mut Conn, scope: &Scope) -> Result<u64> {
    let (filter, arg1, arg2) = filter(scope);
    // The filter numbers its arguments from $4; $1 to $3 are fillers here.
    let sql = format!(
        "UPDATE ontvangen_resultaten SET te_verwerken = 1 WHERE {filter} \
         AND $1 = $1 AND $2 = $2 AND $3 = $3"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(0_i64)
        .bind(0_i64)
        .bind(0_i64);
    if let Some(a) = arg1 {
        q = q.bind(a);
    }
    if let Some(b) = arg2 {
        q = q.bind(b);
    }
    Ok(q.execute(conn).await?.rows_affected())
}

/// Claims up to `limit` due results of the scope until `until`, so that no other worker takes
/// them before then. Results claimed by someone else are passed over.
pub async fn claim(
    conn: &mut Conn,
    scope: &Scope,
    limit: i64,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<Received>> {
    let (filter, arg1, arg2) = filter(scope);
    let lock = if is_postgres(conn) {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE ontvangen_resultaten SET geclaimd_tot = $1 WHERE id IN (\
         SELECT id FROM ontvangen_resultaten WHERE te_verwerken = 1 AND {filter} \
         AND (geclaimd_tot IS NULL OR geclaimd_tot < $2) ORDER BY created_at, id LIMIT $3{lock}) \
         RETURNING {RECEIVED_COLS}"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(format_ts(until))
        .bind(format_ts(now))
        .bind(limit);
    if let Some(a) = arg1 {
        q = q.bind(a);
    }
    if let Some(b) = arg2 {
        q = q.bind(b);
    }
    let rows = q.fetch_all(conn).await?;
    let mut out: Vec<Received> = rows.iter().map(received_row).collect::<Result<_>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The outcome of processing one received result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `verwerkt` or `fout`.
    pub status: String,
    pub fout: Option<String>,
    pub pupil_id: Option<String>,
    pub resultaat_id: Option<String>,
}

/// Holds claimed results for processing inside the caller's transaction, those that are still
/// the version that was claimed; returns their ids. It is a write, so a newer delivery of the
/// same result (`replace`) waits for the transaction (row locks on PostgreSQL, the write lock on
/// SQLite) instead of slipping in between processing and `finish`: otherwise the pupil's result
/// would be written for a version that `finish` then refuses, and be left without a received
/// result pointing at it. A result left out changed after the claim (the newer version is due
/// already) or was dismissed by a Beheerder meanwhile (it stays dismissed).
pub async fn hold(conn: &mut Conn, claimed: &[Received]) -> Result<HashSet<String>> {
    let mut held = HashSet::with_capacity(claimed.len());
    for chunk in claimed.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE ontvangen_resultaten SET versie_nr = versie_nr \
             WHERE te_verwerken = 1 AND id IN ({}) RETURNING id, versie_nr",
            marks.join(", ")
        )));
        for r in chunk {
            q = q.bind(r.id.clone());
        }
        let versions: HashMap<String, i64> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| Ok((text(row, "id")?, int(row, "versie_nr")?)))
            .collect::<Result<_>>()?;
        held.extend(
            chunk
                .iter()
                .filter(|r| versions.get(&r.id) == Some(&r.versie_nr))
                .map(|r| r.id.clone()),
        );
    }
    Ok(held)
}

/// Stores the outcomes and ends the claims, of the results that are still the version that was
/// processed (a newer version stays due). One statement per 200 results (`UPDATE … FROM
/// (VALUES …)`, on both databases). Returns the ids stored.
pub async fn finish(
    conn: &mut Conn,
    done: &[(&Received, &Outcome)],
    now: OffsetDateTime,
) -> Result<HashSet<String>> {
    const N: usize = 6;
    let at = format_ts(now);
    let mut stored = HashSet::with_capacity(done.len());
    for chunk in done.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=N).map(|c| format!("${}", 1 + i * N + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        // VALUES columns are column1… on both databases.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE ontvangen_resultaten SET te_verwerken = 0, geclaimd_tot = NULL, \
             status = v.column3, fout = v.column4, pupil_id = v.column5, \
             resultaat_id = v.column6, verwerkt_op = $1, genegeerd_reden = NULL \
             FROM (VALUES {}) AS v \
             WHERE ontvangen_resultaten.id = v.column1 \
             AND ontvangen_resultaten.versie_nr = v.column2 \
             RETURNING ontvangen_resultaten.id",
            values.join(", ")
        )))
        .bind(at.clone());
        for (r, o) in chunk {
            q = q
                .bind(r.id.clone())
                .bind(r.versie_nr)
                .bind(o.status.clone())
                .bind(o.fout.clone())
                .bind(o.pupil_id.clone())
                .bind(o.resultaat_id.clone());
        }
        for row in q.fetch_all(&mut *conn).await? {
            stored.insert(text(&row, "id")?);
        }
    }
    Ok(stored)
}

/// Ends a claim without an outcome (the result stays due).
pub async fn release(conn: &mut Conn, id: &str) -> Result<()> {
    sqlx::query("UPDATE ontvangen_resultaten SET geclaimd_tot = NULL WHERE id = $1")
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// A Beheerder dismisses an open error with a reason.
pub async fn dismiss(
    conn: &mut Conn,
    school: SchoolId,
    id: &str,
    reden: &str,
    now: OffsetDateTime,
) -> Result<Option<Received>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE ontvangen_resultaten SET status = 'genegeerd', fout = NULL, genegeerd_reden = $1, \
         te_verwerken = 0, verwerkt_op = $2 WHERE school_id = $3 AND id = $4 AND status = 'fout' \
         RETURNING {RECEIVED_COLS}"
    )))
    .bind(reden.to_string())
    .bind(format_ts(now))
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    r.as_ref().map(received_row).transpose()
}

pub async fn get_received(conn: &mut Conn, school: SchoolId, id: &str) -> Result<Option<Received>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIVED_COLS} FROM ontvangen_resultaten WHERE school_id = $1 AND id = $2"
    )))
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    r.as_ref().map(received_row).transpose()
}

/// A school's open errors of one kind, oldest afname first, at most `limit`.
pub async fn open_errors(
    conn: &mut Conn,
    school: SchoolId,
    fout: &str,
    limit: i64,
) -> Result<Vec<Received>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIVED_COLS} FROM ontvangen_resultaten WHERE school_id = $1 AND status = 'fout' \
         AND fout = $2 ORDER BY leerlingid, afnamedatum, id LIMIT $3"
    )))
    .bind(school.to_string())
    .bind(fout.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(received_row).collect()
}

/// The unknown Boom-leerlingnummers of a school's open errors of kind `fout`, each with its
/// number of results and first and last afnamedatum; at most `limit` numbers.
pub async fn open_error_leerlingids(
    conn: &mut Conn,
    school: SchoolId,
    fout: &str,
    limit: i64,
) -> Result<Vec<(String, i64, String, String)>> {
    let rows = sqlx::query(
        "SELECT leerlingid, COUNT(*) AS n, MIN(afnamedatum) AS eerste, MAX(afnamedatum) AS laatste \
         FROM ontvangen_resultaten WHERE school_id = $1 AND status = 'fout' AND fout = $2 \
         GROUP BY leerlingid ORDER BY leerlingid LIMIT $3",
    )
    .bind(school.to_string())
    .bind(fout.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                text(r, "leerlingid")?,
                int(r, "n")?,
                text(r, "eerste")?,
                text(r, "laatste")?,
            ))
        })
        .collect()
}

/// The tests of a school's open errors of kind `fout`, per (toetscode, versie, onderdeel) with
/// the number of results and one of them (whose message describes the test).
pub async fn open_error_toetsen(
    conn: &mut Conn,
    school: SchoolId,
    fout: &str,
    limit: i64,
) -> Result<Vec<(Identity, i64, Received)>> {
    let rows = sqlx::query(
        "SELECT toetscode, versie, onderdeel, COUNT(*) AS n, MIN(id) AS voorbeeld \
         FROM ontvangen_resultaten WHERE school_id = $1 AND status = 'fout' AND fout = $2 \
         GROUP BY toetscode, versie, onderdeel ORDER BY toetscode, versie, onderdeel LIMIT $3",
    )
    .bind(school.to_string())
    .bind(fout.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = text(r, "voorbeeld")?;
        if let Some(example) = get_received(&mut *conn, school, &id).await? {
            out.push((example.identity.clone(), int(r, "n")?, example));
        }
    }
    Ok(out)
}

/// How many open errors of each kind a school has.
pub async fn error_counts(conn: &mut Conn, school: SchoolId) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT fout, COUNT(*) AS n FROM ontvangen_resultaten WHERE school_id = $1 \
         AND status = 'fout' GROUP BY fout ORDER BY fout",
    )
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((text(r, "fout")?, int(r, "n")?)))
        .collect()
}

/// The results a delivery brought (their current version), one page.
pub async fn of_levering(
    conn: &mut Conn,
    school: SchoolId,
    levering: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<Received>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIVED_COLS} FROM ontvangen_resultaten WHERE school_id = $1 AND levering_id = $2 \
         ORDER BY leerlingid, afnamedatum, toetscode, onderdeel, id LIMIT $3 OFFSET $4"
    )))
    .bind(school.to_string())
    .bind(levering.to_string())
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    rows.iter().map(received_row).collect()
}

/// How many received results are still due (for tests and the crash check).
pub async fn due_count(conn: &mut Conn) -> Result<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM ontvangen_resultaten WHERE te_verwerken = 1")
        .fetch_one(conn)
        .await?;
    int(&r, "n")
}

/// Earlier versions of a received result, newest first: (versie_nr, levering, gegevens, when
/// replaced).
pub async fn history(
    conn: &mut Conn,
    id: &str,
) -> Result<Vec<(i64, String, String, OffsetDateTime)>> {
    let rows = sqlx::query(
        "SELECT versie_nr, levering_id, gegevens, vervangen_op FROM ontvangen_resultaat_versies \
         WHERE ontvangen_resultaat_id = $1 ORDER BY versie_nr DESC",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                int(r, "versie_nr")?,
                text(r, "levering_id")?,
                text(r, "gegevens")?,
                ts(r, "vervangen_op")?,
            ))
        })
        .collect()
}

/// A refused call (never its body).
pub async fn log_refusal(
    conn: &mut Conn,
    koppeling: Option<&str>,
    foutcode: &str,
    grootte: i64,
    sha256: &str,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO uwlr_weigeringen (id, ontvangen_op, koppeling_id, foutcode, grootte, sha256) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(format_ts(now))
    .bind(koppeling.map(String::from))
    .bind(foutcode.to_string())
    .bind(grootte)
    .bind(sha256.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Refused calls, newest first: (when, koppeling, fault code, size).
pub async fn refusals(
    conn: &mut Conn,
    koppeling: &str,
    limit: i64,
) -> Result<Vec<(OffsetDateTime, String, i64)>> {
    let rows = sqlx::query(
        "SELECT ontvangen_op, foutcode, grootte FROM uwlr_weigeringen WHERE koppeling_id = $1 \
         ORDER BY ontvangen_op DESC LIMIT $2",
    )
    .bind(koppeling.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                ts(r, "ontvangen_op")?,
                text(r, "foutcode")?,
                int(r, "grootte")?,
            ))
        })
        .collect()
}
