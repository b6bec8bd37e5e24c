//! A school's vakken and DLE norms (norms.md): the defaults, the import of a norms CSV (all or
//! nothing, every refused line with its number and reason), the export, and the norm that holds
//! for a (toetsdoel, vak, fase). The arithmetic is `startblok_domain::norms`.

use std::collections::{HashMap, HashSet};

use startblok_db::DbError;
use startblok_db::norms::{self, NormRow, Vak};
use startblok_domain::SchoolId;
use startblok_domain::norms::{Bound, Dle, Norm};

use crate::forms::FormErrors;
use crate::{Actor, App, AppError, AppResult, audit, now};

/// The vakken a school starts with (norms.md).
pub const DEFAULT_VAKKEN: [&str; 5] = [
    "Rekenen-Wiskunde",
    "Begrijpend lezen",
    "Spelling",
    "Technisch lezen",
    "Woordenschat",
];

/// The columns of a norms file, in this order when exported.
pub const NORM_COLUMNS: [&str; 5] = ["toetsdoel", "vak", "fase", "ondergrens", "streef"];

/// One cell of the norms grid as typed.
#[derive(Debug, Clone, Default)]
pub struct GridCell {
    pub vak: String,
    pub fase: i64,
    pub ondergrens: String,
    pub streef: String,
}

/// A refused line of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line in the file (the column names are line 1); 0 for the file as a whole.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "Regel {}: {}", self.line, self.message)
        }
    }
}

fn exact(s: &str, what: &str) -> Result<Dle, String> {
    let d = Dle::parse(s).map_err(|e| format!("{what}: {e}"))?;
    if d.bound() != Bound::Exact {
        return Err(format!("{what}: een norm is een getal, zonder < of >."));
    }
    Ok(d)
}

impl App {
    /// The school's vakken; a school without any gets the defaults first.
    pub async fn vakken(&self, school: SchoolId) -> AppResult<Vec<Vak>> {
        let mut tx = self.db.begin().await?;
        let mut list = norms::vakken(&mut tx, school).await?;
        if list.is_empty() {
            for (i, naam) in DEFAULT_VAKKEN.iter().enumerate() {
                // Another request may make them at the same moment: then theirs stand.
                norms::insert_vak_if_absent(&mut tx, school, naam, i as i64, now()).await?;
            }
            list = norms::vakken(&mut tx, school).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(list)
    }

    /// Adds a vak to the school's list (after the others), or says at the field why not.
    pub async fn add_vak(
        &self,
        school: SchoolId,
        naam: &str,
        actor: &Actor,
    ) -> AppResult<Result<(), FormErrors>> {
        let mut errors = FormErrors::default();
        let list = self.vakken(school).await?;
        match startblok_domain::clean_text(naam) {
            None => errors.add("vak_naam", "Vul de naam van het vak in."),
            Some(n) if n.chars().count() > 40 => {
                errors.add("vak_naam", "De naam van een vak is hoogstens 40 tekens.")
            }
            Some(n)
                if list
                    .iter()
                    .any(|v| v.naam.to_lowercase() == n.to_lowercase()) =>
            {
                errors.add("vak_naam", format!("Het vak '{n}' bestaat al."))
            }
            Some(n) => {
                let position = list.iter().map(|v| v.position).max().unwrap_or(0) + 1;
                let mut tx = self.db.begin().await?;
                norms::insert_vak_if_absent(&mut tx, school, &n, position, now()).await?;
                audit(&mut tx, actor, "vak.toegevoegd", None, Some(school)).await?;
                tx.commit().await.map_err(DbError::from)?;
            }
        }
        Ok(if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        })
    }

    /// Imports norms from a CSV or XLSX file with the columns toetsdoel, vak, fase, ondergrens,
    /// streef. Every line is checked first; with any refusal nothing is stored and every refused
    /// line comes back with its reason. Otherwise each (toetsdoel, vak, fase) in the file is set.
    pub async fn import_normen(
        &self,
        school: SchoolId,
        bytes: &[u8],
        actor: &Actor,
    ) -> AppResult<Result<usize, Vec<LineError>>> {
        let table = match crate::spreadsheet::read_table(bytes) {
            Ok(t) => t,
            Err(e) => {
                return Ok(Err(vec![LineError {
                    line: 0,
                    message: e.to_string(),
                }]));
            }
        };
        let col = |name: &str| {
            table
                .headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let cols: Vec<Option<usize>> = NORM_COLUMNS.iter().map(|c| col(c)).collect();
        if let Some(missing) = NORM_COLUMNS.iter().zip(&cols).find(|(_, c)| c.is_none()) {
            return Ok(Err(vec![LineError {
                line: 1,
                message: format!(
                    "de kolom '{}' ontbreekt. Nodig zijn: {}.",
                    missing.0,
                    NORM_COLUMNS.join(", ")
                ),
            }]));
        }
        let cols: Vec<usize> = cols.into_iter().flatten().collect();
        let vakken = self.vakken(school).await?;
        let mut c = self.db.conn().await?;
        let doelen = startblok_db::toetsdoelen::list(&mut c, school).await?;
        drop(c);
        let vak_by_name: HashMap<String, &Vak> =
            vakken.iter().map(|v| (v.naam.to_lowercase(), v)).collect();
        let doel_by_code: HashMap<String, String> = doelen
            .iter()
            .map(|d| (d.code.to_lowercase(), d.id.clone()))
            .collect();

        let mut rows = Vec::new();
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        for (i, row) in table.rows.iter().enumerate() {
            let line = i + 2;
            let cell = |k: usize| row.get(cols[k]).map(|s| s.trim()).unwrap_or("");
            if (0..5).all(|k| cell(k).is_empty()) {
                continue;
            }
            let mut problems = Vec::new();
            let doel = doel_by_code.get(&cell(0).to_lowercase());
            if doel.is_none() {
                problems.push(format!(
                    "toetsdoel '{}' bestaat niet op deze school (Instellingen > Toetsdoelen).",
                    cell(0)
                ));
            }
            let vak = vak_by_name.get(&cell(1).to_lowercase());
            if vak.is_none() {
                let known: Vec<&str> = vakken.iter().map(|v| v.naam.as_str()).collect();
                problems.push(format!(
                    "vak '{}' bestaat niet; bekende vakken: {}.",
                    cell(1),
                    known.join(", ")
                ));
            }
            let fase = cell(2).parse::<i64>().ok().filter(|f| (1..=9).contains(f));
            if fase.is_none() {
                problems.push(format!(
                    "fase '{}' is geen getal van 1 tot en met 9.",
                    cell(2)
                ));
            }
            let low = exact(cell(3), "ondergrens");
            let high = exact(cell(4), "streef");
            let norm = match (&low, &high) {
                (Ok(l), Ok(h)) => match Norm::new(*l, *h) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        problems.push(e.to_string());
                        None
                    }
                },
                _ => {
                    problems.extend(low.err());
                    problems.extend(high.err());
                    None
                }
            };
            match (doel, vak, fase, norm) {
                (Some(d), Some(v), Some(f), Some(n)) if problems.is_empty() => {
                    if !seen.insert((d.clone(), v.id.clone(), f)) {
                        problems.push(format!(
                            "{} / {} / fase {f} staat al eerder in het bestand.",
                            cell(0),
                            cell(1)
                        ));
                    } else {
                        rows.push(NormRow {
                            toetsdoel_id: d.clone(),
                            vak_id: v.id.clone(),
                            fase: f,
                            ondergrens_tenths: i64::from(n.ondergrens.tenths()),
                            streef_tenths: i64::from(n.streef.tenths()),
                        });
                    }
                }
                _ => {}
            }
            if !problems.is_empty() {
                errors.push(LineError {
                    line,
                    message: problems.join(" "),
                });
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        if rows.is_empty() {
            return Ok(Err(vec![LineError {
                line: 0,
                message: "Het bestand bevat geen normen.".into(),
            }]));
        }
        let mut tx = self.db.begin().await?;
        let at = now();
        for r in &rows {
            norms::upsert_norm(&mut tx, school, r, at).await?;
        }
        audit(&mut tx, actor, "normen.geimporteerd", None, Some(school)).await?;
        tx.commit().await.map_err(DbError::from)?;
        // Results judged with the old norms, or waiting for one, are processed again.
        self.reprocess_after_change(school, None).await;
        Ok(Ok(rows.len()))
    }

    /// Saves the grid of one toetsdoel as edited in place: per (vak, fase) an ondergrens and a
    /// streef, or both empty for no norm. Checked cell by cell (errors under the field ids
    /// `o-VAK-FASE` and `s-VAK-FASE`); with any error nothing is stored. Results are judged again
    /// with the new norms. `Ok(None)`: no such toetsdoel at this school.
    pub async fn save_norm_grid(
        &self,
        school: SchoolId,
        toetsdoel: &str,
        cells: &[GridCell],
        actor: &Actor,
    ) -> AppResult<Option<Result<usize, FormErrors>>> {
        let vakken = self.vakken(school).await?;
        let mut tx = self.db.begin().await?;
        let doelen = startblok_db::toetsdoelen::list(&mut tx, school).await?;
        let Some(doel) = doelen.iter().find(|d| d.id == toetsdoel) else {
            return Ok(None);
        };
        let mut errors = FormErrors::default();
        let mut set = Vec::new();
        let mut clear = Vec::new();
        for c in cells {
            let Some(vak) = vakken.iter().find(|v| v.id == c.vak) else {
                continue;
            };
            if !(1..=9).contains(&c.fase) {
                continue;
            }
            let (o, st) = (c.ondergrens.trim(), c.streef.trim());
            let where_ = format!("{}, fase {}", vak.naam, c.fase);
            let (fo, fs) = (
                format!("o-{}-{}", vak.id, c.fase),
                format!("s-{}-{}", vak.id, c.fase),
            );
            match (o.is_empty(), st.is_empty()) {
                (true, true) => clear.push((vak.id.clone(), c.fase)),
                (true, false) => errors.add(
                    fo,
                    format!("{where_}: vul ook de ondergrens in, of maak beide leeg."),
                ),
                (false, true) => errors.add(
                    fs,
                    format!("{where_}: vul ook de streefwaarde in, of maak beide leeg."),
                ),
                (false, false) => {
                    let low = exact(o, "ondergrens");
                    let high = exact(st, "streef");
                    match (low, high) {
                        (Err(e), _) => errors.add(fo, format!("{where_}: {e}")),
                        (_, Err(e)) => errors.add(fs, format!("{where_}: {e}")),
                        (Ok(l), Ok(h)) => match Norm::new(l, h) {
                            Err(e) => errors.add(fo, format!("{where_}: {e}")),
                            Ok(n) => set.push(NormRow {
                                toetsdoel_id: doel.id.clone(),
                                vak_id: vak.id.clone(),
                                fase: c.fase,
                                ondergrens_tenths: i64::from(n.ondergrens.tenths()),
                                streef_tenths: i64::from(n.streef.tenths()),
                            }),
                        },
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Ok(Some(Err(errors)));
        }
        let at = now();
        for r in &set {
            norms::upsert_norm(&mut tx, school, r, at).await?;
        }
        for (vak, fase) in &clear {
            norms::delete_norm(&mut tx, school, &doel.id, vak, *fase).await?;
        }
        audit(&mut tx, actor, "normen.gewijzigd", None, Some(school)).await?;
        tx.commit().await.map_err(DbError::from)?;
        self.reprocess_after_change(school, None).await;
        Ok(Some(Ok(set.len())))
    }

    /// The school's norms as CSV (the import's columns; DLE values as Dutch people write them).
    pub async fn normen_csv(&self, school: SchoolId) -> AppResult<String> {
        let vakken = self.vakken(school).await?;
        let mut c = self.db.conn().await?;
        let doelen = startblok_db::toetsdoelen::list(&mut c, school).await?;
        let mut rows = norms::normen(&mut c, school).await?;
        let doel_code: HashMap<&str, &str> = doelen
            .iter()
            .map(|d| (d.id.as_str(), d.code.as_str()))
            .collect();
        let vak: HashMap<&str, &Vak> = vakken.iter().map(|v| (v.id.as_str(), v)).collect();
        rows.sort_by_key(|r| {
            (
                doel_code
                    .get(r.toetsdoel_id.as_str())
                    .map(|s| s.to_string()),
                vak.get(r.vak_id.as_str()).map(|v| v.position),
                r.fase,
            )
        });
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| AppError::Corrupt(e.to_string());
        w.write_record(NORM_COLUMNS).map_err(err)?;
        for r in rows {
            let show = |t: i64| {
                u16::try_from(t)
                    .ok()
                    .and_then(|t| Dle::from_tenths(t, Bound::Exact))
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            };
            w.write_record([
                doel_code
                    .get(r.toetsdoel_id.as_str())
                    .copied()
                    .unwrap_or(""),
                vak.get(r.vak_id.as_str())
                    .map(|v| v.naam.as_str())
                    .unwrap_or(""),
                &r.fase.to_string(),
                &show(r.ondergrens_tenths),
                &show(r.streef_tenths),
            ])
            .map_err(err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Corrupt(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| AppError::Corrupt(e.to_string()))
    }

    /// The norm for a (toetsdoel, vak, fase), by the toetsdoel's id and the vak's id.
    pub async fn norm_for(
        &self,
        school: SchoolId,
        toetsdoel: &str,
        vak: &str,
        fase: u8,
    ) -> AppResult<Option<Norm>> {
        let mut c = self.db.conn().await?;
        let rows = norms::normen(&mut c, school).await?;
        Ok(rows
            .into_iter()
            .find(|r| r.toetsdoel_id == toetsdoel && r.vak_id == vak && r.fase == i64::from(fase))
            .and_then(|r| {
                let d = |t: i64| {
                    u16::try_from(t)
                        .ok()
                        .and_then(|t| Dle::from_tenths(t, Bound::Exact))
                };
                Norm::new(d(r.ondergrens_tenths)?, d(r.streef_tenths)?).ok()
            }))
    }
}
