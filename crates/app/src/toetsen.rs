//! The test catalogue and conversion tables of a school (norms.md): the Boom LVS lines the
//! catalogue starts with, the import of conversion tables (all or nothing, every refused line
//! with its reason) and their export.

use std::collections::{BTreeMap, HashMap};

use startblok_db::DbError;
use startblok_db::toetsen::{self, ConversieRegel, NewToets, Toets};
use startblok_domain::SchoolId;
use startblok_domain::norms::{Bound, ConversionError, ConversionRange, ConversionTable, Dle};

use crate::normen::LineError;
use crate::{Actor, App, AppError, AppResult, audit, now};

/// A catalogue entry the school starts with.
pub struct DefaultToets {
    pub leverancier: &'static str,
    pub toetscode: &'static str,
    pub versie: &'static str,
    pub naam: &'static str,
    pub vak: &'static str,
    pub onderdelen: &'static [&'static str],
}

/// The Boom LVS lines named in the manual. The codes are the ones the example deliveries use:
/// the Boom testcentrum's real codes are not public, so a school corrects them when they differ.
pub const DEFAULT_TOETSEN: [DefaultToets; 4] = [
    DefaultToets {
        leverancier: "Boom",
        toetscode: "BOOM-LVS-RW-2019",
        versie: "2019",
        naam: "LVS RW 2019",
        vak: "Rekenen-Wiskunde",
        onderdelen: &["G3", "G4", "G5", "G6"],
    },
    DefaultToets {
        leverancier: "Boom",
        toetscode: "BOOM-LVS-RW-DIG",
        versie: "1",
        naam: "LVS RW digitaal",
        vak: "Rekenen-Wiskunde",
        onderdelen: &["G4", "G5", "G6", "G7"],
    },
    DefaultToets {
        leverancier: "Boom",
        toetscode: "BOOM-LVS-BL-DIG",
        versie: "1",
        naam: "LVS BL digitaal",
        vak: "Begrijpend lezen",
        onderdelen: &["G4", "G5", "G6"],
    },
    DefaultToets {
        leverancier: "Boom",
        toetscode: "BOOM-LVS-SP",
        versie: "1",
        naam: "LVS SP",
        vak: "Spelling",
        onderdelen: &["G3", "G4", "G5", "G6"],
    },
];

/// The columns of a catalogue file (as `shared/fixtures/normen/toetsen.csv`).
pub const TOETS_COLUMNS: [&str; 6] = [
    "leverancier",
    "toetscode",
    "versie",
    "naam",
    "vak",
    "toetsonderdelen",
];

/// A checked catalogue line: leverancier, toetscode, versie, naam, vak id, onderdelen.
type CatalogueLine = (String, String, String, String, Option<String>, Vec<String>);

/// The columns of a conversion file, in this order when exported.
pub const CONVERSIE_COLUMNS: [&str; 7] = [
    "toetscode",
    "versie",
    "toetsonderdeelcode",
    "bron",
    "van",
    "tot_en_met",
    "dle",
];

/// A table being imported: its bron and its lines with their line numbers in the file.
type Pending = (String, Vec<(usize, ConversieRegel)>);

/// A conversion table with the score it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversie {
    /// `score` or `vaardigheidsscore`.
    pub bron: String,
    pub table: ConversionTable,
}

/// The school's conversion tables, per (toets id, onderdeel).
pub type Tables = HashMap<(String, String), Conversie>;

/// Turns stored lines into checked tables (lines that no longer form a valid table are left out:
/// the import refuses such tables, so this only happens to a damaged database).
pub fn tables(lines: &[ConversieRegel]) -> Tables {
    let mut grouped: BTreeMap<(String, String), (String, Vec<ConversionRange>)> = BTreeMap::new();
    for l in lines {
        let Some(dle) = u16::try_from(l.dle_tenths)
            .ok()
            .and_then(|t| Dle::from_tenths(t, Bound::Exact))
        else {
            continue;
        };
        grouped
            .entry((l.toets_id.clone(), l.onderdeel.clone()))
            .or_insert_with(|| (l.bron.clone(), Vec::new()))
            .1
            .push(ConversionRange {
                van: l.van,
                tot_en_met: l.tot_en_met,
                dle,
            });
    }
    grouped
        .into_iter()
        .filter_map(|(k, (bron, mut v))| {
            v.sort_by(|a, b| a.van.total_cmp(&b.van));
            ConversionTable::new(v)
                .ok()
                .map(|table| (k, Conversie { bron, table }))
        })
        .collect()
}

/// The table for a result: the onderdeel's own, else the whole test's.
pub fn table_for<'a>(
    tables: &'a Tables,
    toets: &str,
    onderdeel: Option<&str>,
) -> Option<&'a Conversie> {
    onderdeel
        .and_then(|o| tables.get(&(toets.to_string(), o.to_string())))
        .or_else(|| tables.get(&(toets.to_string(), String::new())))
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
}

fn show_number(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        f.to_string().replace('.', ",")
    }
}

impl App {
    /// The school's test catalogue; a school without any gets the Boom LVS lines first.
    pub async fn toetsen(&self, school: SchoolId) -> AppResult<Vec<Toets>> {
        let vakken = self.vakken(school).await?;
        let mut tx = self.db.begin().await?;
        let mut list = toetsen::list(&mut tx, school).await?;
        if list.is_empty() {
            for t in &DEFAULT_TOETSEN {
                let vak = vakken
                    .iter()
                    .find(|v| v.naam == t.vak)
                    .map(|v| v.id.as_str());
                let onderdelen: Vec<String> = t.onderdelen.iter().map(|s| s.to_string()).collect();
                let new = NewToets {
                    leverancier: t.leverancier,
                    toetscode: t.toetscode,
                    versie: t.versie,
                    naam: t.naam,
                    vak_id: vak,
                    onderdelen: &onderdelen,
                };
                // Another request may make them at the same moment: then theirs stand.
                toetsen::insert_if_absent(&mut tx, school, &new, now()).await?;
            }
            list = toetsen::list(&mut tx, school).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(list)
    }

    /// Imports catalogue lines (leverancier, toetscode, versie, naam, vak, toetsonderdelen
    /// separated by spaces or commas). A known (leverancier, toetscode, versie) gets the file's
    /// name, vak and onderdelen; an unknown one is added. Every line is checked first; with any
    /// refusal nothing changes.
    pub async fn import_toetsen(
        &self,
        school: SchoolId,
        bytes: &[u8],
        actor: &Actor,
    ) -> AppResult<Result<usize, Vec<LineError>>> {
        let refuse = |line: usize, message: String| Ok(Err(vec![LineError { line, message }]));
        let table = match crate::spreadsheet::read_table(bytes) {
            Ok(t) => t,
            Err(e) => return refuse(0, e.to_string()),
        };
        let col = |name: &str| {
            table
                .headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let cols: Vec<Option<usize>> = TOETS_COLUMNS.iter().map(|c| col(c)).collect();
        if let Some(missing) = TOETS_COLUMNS.iter().zip(&cols).find(|(_, c)| c.is_none()) {
            return refuse(
                1,
                format!(
                    "de kolom '{}' ontbreekt. Nodig zijn: {}.",
                    missing.0,
                    TOETS_COLUMNS.join(", ")
                ),
            );
        }
        let cols: Vec<usize> = cols.into_iter().flatten().collect();
        let vakken = self.vakken(school).await?;
        let mut errors = Vec::new();
        let mut lines: Vec<CatalogueLine> = Vec::new();
        for (i, row) in table.rows.iter().enumerate() {
            let line = i + 2;
            let cell = |k: usize| row.get(cols[k]).map(|s| s.trim()).unwrap_or("");
            if (0..6).all(|k| cell(k).is_empty()) {
                continue;
            }
            let mut problems = Vec::new();
            let mut text = |k: usize, what: &str, max: usize| -> String {
                match startblok_domain::clean_text(cell(k)) {
                    Some(t) if t.chars().count() <= max => t,
                    Some(_) => {
                        problems.push(format!("{what} is langer dan {max} tekens."));
                        String::new()
                    }
                    None => {
                        problems.push(format!("{what} ontbreekt."));
                        String::new()
                    }
                }
            };
            let leverancier = text(0, "leverancier", 60);
            let toetscode = text(1, "toetscode", 60);
            let versie = text(2, "versie", 20);
            let naam = text(3, "naam", 80);
            let vak = if cell(4).is_empty() {
                None
            } else {
                match vakken.iter().find(|v| v.naam.eq_ignore_ascii_case(cell(4))) {
                    Some(v) => Some(v.id.clone()),
                    None => {
                        let known: Vec<&str> = vakken.iter().map(|v| v.naam.as_str()).collect();
                        problems.push(format!(
                            "vak '{}' bestaat niet; bekende vakken: {}.",
                            cell(4),
                            known.join(", ")
                        ));
                        None
                    }
                }
            };
            let mut onderdelen: Vec<String> = Vec::new();
            for o in cell(5).split([' ', ',', ';']).filter(|o| !o.is_empty()) {
                if o.chars().count() > 20 || o.chars().any(char::is_control) {
                    problems.push(format!(
                        "onderdeel '{}' is geen code.",
                        o.chars().take(20).collect::<String>()
                    ));
                } else if !onderdelen.iter().any(|x| x == o) {
                    onderdelen.push(o.to_string());
                }
            }
            if problems.is_empty()
                && lines
                    .iter()
                    .any(|l| l.0 == leverancier && l.1 == toetscode && l.2 == versie)
            {
                problems.push(format!(
                    "{leverancier} {toetscode} versie {versie} staat al eerder in het bestand."
                ));
            }
            if problems.is_empty() {
                lines.push((leverancier, toetscode, versie, naam, vak, onderdelen));
            } else {
                errors.push(LineError {
                    line,
                    message: problems.join(" "),
                });
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        if lines.is_empty() {
            return refuse(0, "Het bestand bevat geen toetsen.".into());
        }
        let catalogue = self.toetsen(school).await?;
        let mut tx = self.db.begin().await?;
        for (leverancier, toetscode, versie, naam, vak, onderdelen) in &lines {
            match catalogue.iter().find(|t| {
                &t.leverancier == leverancier && &t.toetscode == toetscode && &t.versie == versie
            }) {
                Some(t) => {
                    toetsen::update(&mut tx, school, &t.id, naam, vak.as_deref(), onderdelen)
                        .await?;
                }
                None => {
                    let new = NewToets {
                        leverancier,
                        toetscode,
                        versie,
                        naam,
                        vak_id: vak.as_deref(),
                        onderdelen,
                    };
                    toetsen::insert_if_absent(&mut tx, school, &new, now()).await?;
                }
            }
        }
        audit(&mut tx, actor, "toetsen.geimporteerd", None, Some(school)).await?;
        tx.commit().await.map_err(DbError::from)?;
        self.reprocess_after_change(school, None).await;
        Ok(Ok(lines.len()))
    }

    /// The catalogue as CSV (the import's columns).
    pub async fn toetsen_csv(&self, school: SchoolId) -> AppResult<String> {
        let vakken = self.vakken(school).await?;
        let catalogue = self.toetsen(school).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| AppError::Corrupt(e.to_string());
        w.write_record(TOETS_COLUMNS).map_err(err)?;
        for t in &catalogue {
            let vak = t
                .vak_id
                .as_ref()
                .and_then(|id| vakken.iter().find(|v| &v.id == id))
                .map(|v| v.naam.as_str())
                .unwrap_or("");
            w.write_record([
                t.leverancier.as_str(),
                t.toetscode.as_str(),
                t.versie.as_str(),
                t.naam.as_str(),
                vak,
                &t.onderdelen.join(" "),
            ])
            .map_err(err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Corrupt(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| AppError::Corrupt(e.to_string()))
    }

    /// The school's conversion tables.
    pub async fn conversietabellen(&self, school: SchoolId) -> AppResult<Tables> {
        let mut c = self.db.conn().await?;
        Ok(tables(&toetsen::conversieregels(&mut c, school).await?))
    }

    /// Imports conversion tables from a CSV or XLSX file with the columns toetscode, versie,
    /// toetsonderdeelcode, bron, van, tot_en_met, dle. Every line is checked, and every table
    /// as a whole (increasing ranges, no overlaps, no gaps); with any refusal nothing is stored.
    /// Otherwise each (toets, onderdeel) in the file gets the file's table.
    pub async fn import_conversie(
        &self,
        school: SchoolId,
        bytes: &[u8],
        actor: &Actor,
    ) -> AppResult<Result<usize, Vec<LineError>>> {
        let refuse = |line: usize, message: String| Ok(Err(vec![LineError { line, message }]));
        let table = match crate::spreadsheet::read_table(bytes) {
            Ok(t) => t,
            Err(e) => return refuse(0, e.to_string()),
        };
        let col = |name: &str| {
            table
                .headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let cols: Vec<Option<usize>> = CONVERSIE_COLUMNS.iter().map(|c| col(c)).collect();
        if let Some(missing) = CONVERSIE_COLUMNS
            .iter()
            .zip(&cols)
            .find(|(_, c)| c.is_none())
        {
            return refuse(
                1,
                format!(
                    "de kolom '{}' ontbreekt. Nodig zijn: {}.",
                    missing.0,
                    CONVERSIE_COLUMNS.join(", ")
                ),
            );
        }
        let cols: Vec<usize> = cols.into_iter().flatten().collect();
        let catalogue = self.toetsen(school).await?;
        let mut errors = Vec::new();
        // Per (toets, onderdeel): the lines with their line numbers, in file order.
        let mut grouped: BTreeMap<(String, String), Pending> = BTreeMap::new();
        for (i, row) in table.rows.iter().enumerate() {
            let line = i + 2;
            let cell = |k: usize| row.get(cols[k]).map(|s| s.trim()).unwrap_or("");
            if (0..7).all(|k| cell(k).is_empty()) {
                continue;
            }
            let mut problems = Vec::new();
            let toets = catalogue
                .iter()
                .find(|t| t.toetscode == cell(0) && t.versie == cell(1));
            match toets {
                None => problems.push(format!(
                    "toets '{}' versie '{}' staat niet in de toetsenlijst (Instellingen > Toetsen).",
                    cell(0),
                    cell(1)
                )),
                Some(t) if !cell(2).is_empty() && !t.onderdelen.iter().any(|o| o == cell(2)) => {
                    problems.push(format!(
                        "toets '{}' heeft geen onderdeel '{}'; wel: {}.",
                        t.naam,
                        cell(2),
                        t.onderdelen.join(", ")
                    ))
                }
                _ => {}
            }
            let bron = cell(3).to_lowercase();
            if bron != "score" && bron != "vaardigheidsscore" {
                problems.push(format!(
                    "bron '{}' is geen 'score' of 'vaardigheidsscore'.",
                    cell(3)
                ));
            }
            let van = number(cell(4));
            if van.is_none() {
                problems.push(format!("van '{}' is geen getal.", cell(4)));
            }
            let tot = number(cell(5));
            if tot.is_none() {
                problems.push(format!("tot_en_met '{}' is geen getal.", cell(5)));
            }
            let dle = match Dle::parse(cell(6)) {
                Ok(d) if d.bound() == Bound::Exact => Some(d),
                Ok(_) => {
                    problems.push("dle: in een tabel is een DLE een getal, zonder < of >.".into());
                    None
                }
                Err(e) => {
                    problems.push(format!("dle: {e}"));
                    None
                }
            };
            if !problems.is_empty() {
                errors.push(LineError {
                    line,
                    message: problems.join(" "),
                });
                continue;
            }
            let (Some(t), Some(van), Some(tot), Some(dle)) = (toets, van, tot, dle) else {
                continue;
            };
            let key = (t.id.clone(), cell(2).to_string());
            let entry = grouped
                .entry(key)
                .or_insert_with(|| (bron.clone(), Vec::new()));
            if entry.0 != bron {
                errors.push(LineError {
                    line,
                    message: format!(
                        "bron '{bron}' wijkt af van de eerdere regels van deze tabel ('{}').",
                        entry.0
                    ),
                });
                continue;
            }
            entry.1.push((
                line,
                ConversieRegel {
                    toets_id: t.id.clone(),
                    onderdeel: cell(2).to_string(),
                    bron: bron.clone(),
                    van,
                    tot_en_met: tot,
                    dle_tenths: i64::from(dle.tenths()),
                },
            ));
        }
        // Each table as a whole, in increasing order of `van`.
        for (_, list) in grouped.values_mut() {
            list.sort_by(|a, b| a.1.van.total_cmp(&b.1.van));
            let ranges = list
                .iter()
                .map(|(_, r)| ConversionRange {
                    van: r.van,
                    tot_en_met: r.tot_en_met,
                    dle: Dle::from_tenths(r.dle_tenths as u16, Bound::Exact)
                        .expect("checked above"),
                })
                .collect();
            if let Err(e) = ConversionTable::new(ranges) {
                let at = match e {
                    ConversionError::Reversed { line }
                    | ConversionError::Overlap { line }
                    | ConversionError::Gap { line } => line,
                    ConversionError::Empty => 1,
                };
                let file_line = list[at - 1].0;
                let message = match e {
                    ConversionError::Reversed { .. } => "'van' is groter dan 'tot_en_met'.".into(),
                    ConversionError::Overlap { .. } => format!(
                        "overlapt met regel {} (dezelfde toets en hetzelfde onderdeel).",
                        list[at - 2].0
                    ),
                    ConversionError::Gap { .. } => format!(
                        "er zit een gat tussen regel {} en deze regel: scores daartussen krijgen geen DLE.",
                        list[at - 2].0
                    ),
                    ConversionError::Empty => "de tabel is leeg.".into(),
                };
                errors.push(LineError {
                    line: file_line,
                    message,
                });
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Ok(Err(errors));
        }
        if grouped.is_empty() {
            return refuse(0, "Het bestand bevat geen conversietabel.".into());
        }
        let mut tx = self.db.begin().await?;
        let mut count = 0;
        for ((toets, onderdeel), (_, lines)) in &grouped {
            let rows: Vec<ConversieRegel> = lines.iter().map(|(_, r)| r.clone()).collect();
            count += rows.len();
            toetsen::replace_table(&mut tx, school, toets, onderdeel, &rows).await?;
        }
        audit(
            &mut tx,
            actor,
            "conversietabellen.geimporteerd",
            None,
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        // Results judged with the old tables, or waiting for one, are processed again.
        self.reprocess_after_change(school, None).await;
        Ok(Ok(count))
    }

    /// The school's conversion tables as CSV (the import's columns).
    pub async fn conversie_csv(&self, school: SchoolId) -> AppResult<String> {
        let catalogue = self.toetsen(school).await?;
        let mut c = self.db.conn().await?;
        let lines = toetsen::conversieregels(&mut c, school).await?;
        let by_id: HashMap<&str, &Toets> = catalogue.iter().map(|t| (t.id.as_str(), t)).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| AppError::Corrupt(e.to_string());
        w.write_record(CONVERSIE_COLUMNS).map_err(err)?;
        let mut rows: Vec<&ConversieRegel> = lines.iter().collect();
        rows.sort_by(|a, b| {
            let key = |r: &ConversieRegel| {
                by_id
                    .get(r.toets_id.as_str())
                    .map(|t| (t.toetscode.clone(), t.versie.clone()))
            };
            (key(a), &a.onderdeel)
                .cmp(&(key(b), &b.onderdeel))
                .then(a.van.total_cmp(&b.van))
        });
        for r in rows {
            let Some(t) = by_id.get(r.toets_id.as_str()) else {
                continue;
            };
            let dle = Dle::from_tenths(r.dle_tenths as u16, Bound::Exact)
                .map(|d| d.to_string())
                .unwrap_or_default();
            w.write_record([
                t.toetscode.as_str(),
                t.versie.as_str(),
                r.onderdeel.as_str(),
                r.bron.as_str(),
                &show_number(r.van),
                &show_number(r.tot_en_met),
                &dle,
            ])
            .map_err(err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Corrupt(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| AppError::Corrupt(e.to_string()))
    }
}
