//! Boom-leerlingnummers from a file (beyond the manual): upload a CSV or XLSX, say which column
//! holds the number and which identifies the pupil, see what would happen per row, and apply
//! only the rows the Beheerder confirms.

use startblok_db::DbError;
use startblok_db::boom_uploads::{self, Upload};
use startblok_db::pupils::{self, Pupil};
use startblok_domain::{BoomLeerlingnummer, SchoolId, parse_date};
use time::Duration;
use unicode_normalization::UnicodeNormalization;

use crate::forms::FormErrors;
use crate::pupils::InSchool;
use crate::spreadsheet::{Table, TableError, read_table};
use crate::toetsdoelen::uuid_v7;
use crate::{App, AppError, audit, now};

/// How the pupil in a row is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    LasKey,
    EckId,
    NameAndBirthDate,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::LasKey => "las",
            KeyKind::EckId => "eck",
            KeyKind::NameAndBirthDate => "naam",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "las" => Some(KeyKind::LasKey),
            "eck" => Some(KeyKind::EckId),
            "naam" => Some(KeyKind::NameAndBirthDate),
            _ => None,
        }
    }
}

/// Which columns mean what (column indexes into the file's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub boom: usize,
    pub key: KeyKind,
    /// LAS-sleutel, ECK-iD or achternaam column.
    pub key_col: usize,
    /// Geboortedatum column (only with [`KeyKind::NameAndBirthDate`]).
    pub dob_col: Option<usize>,
}

/// What would happen to one row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowStatus {
    /// Found one pupil without a number: the number would be set.
    New,
    /// Found one pupil that already has this number.
    Unchanged,
    /// Found one pupil with another number: it would be replaced.
    Overwrite {
        old: String,
    },
    /// Several pupils fit.
    Ambiguous {
        count: usize,
    },
    NotFound,
    /// The row cannot be used (empty or malformed number or key).
    Invalid {
        reason: String,
    },
    /// The same pupil or number appears more than once in the file.
    DuplicateInFile,
}

#[derive(Debug, Clone)]
pub struct PreviewRow {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    pub key: String,
    pub boom: String,
    pub pupil: Option<Pupil>,
    pub status: RowStatus,
}

impl PreviewRow {
    /// Rows that can be applied when confirmed.
    pub fn applicable(&self) -> bool {
        matches!(self.status, RowStatus::New | RowStatus::Overwrite { .. })
    }
}

#[derive(Debug, Clone)]
pub struct Preview {
    pub file_name: String,
    pub headers: Vec<String>,
    pub rows: Vec<PreviewRow>,
}

impl Preview {
    pub fn count(&self, f: impl Fn(&RowStatus) -> bool) -> usize {
        self.rows.iter().filter(|r| f(&r.status)).count()
    }
}

/// A first guess of the mapping from the column names, for the mapping form.
pub fn guess_mapping(headers: &[String]) -> (Option<usize>, KeyKind, Option<usize>, Option<usize>) {
    let norm: Vec<String> = headers
        .iter()
        .map(|h| h.to_lowercase().replace(['-', ' ', '_'], ""))
        .collect();
    let find = |pred: &dyn Fn(&str) -> bool| norm.iter().position(|h| pred(h));
    let boom = find(&|h| h.contains("boom"));
    let las = find(&|h| {
        (h.contains("las") || h.contains("leerlingnummer") || h.contains("sleutel") || h == "key")
            && !h.contains("boom")
    });
    let eck = find(&|h| h.contains("eck"));
    let naam = find(&|h| h.contains("achternaam") || h == "naam");
    let dob = find(&|h| h.contains("geboorte"));
    if let Some(e) = eck {
        (boom, KeyKind::EckId, Some(e), None)
    } else if let Some(l) = las {
        (boom, KeyKind::LasKey, Some(l), None)
    } else if naam.is_some() {
        (boom, KeyKind::NameAndBirthDate, naam, dob)
    } else {
        (boom, KeyKind::LasKey, None, None)
    }
}

fn fold(s: &str) -> String {
    s.nfc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Keys are opaque; a spreadsheet may have turned `001000` into the number 1000, so an all-digit
/// key also matches when only leading zeros differ.
fn same_key(file: &str, stored: &str) -> bool {
    file == stored
        || (!file.is_empty()
            && file.bytes().all(|b| b.is_ascii_digit())
            && stored.bytes().all(|b| b.is_ascii_digit())
            && file.trim_start_matches('0') == stored.trim_start_matches('0'))
}

fn surname_matches(file: &str, p: &Pupil) -> bool {
    let f = fold(file);
    let plain = fold(&p.achternaam);
    let with_prefix = fold(&format!(
        "{} {}",
        p.voorvoegsel.as_deref().unwrap_or(""),
        p.achternaam
    ));
    f == plain || f == with_prefix
}

impl App {
    /// Reads an uploaded file and keeps its table for the next steps. Returns the upload's id.
    pub async fn upload_boom_file(
        &self,
        who: &InSchool,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Result<String, TableError>, AppError> {
        let table = match read_table(bytes) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let Some(user) = who.actor.user_id else {
            return Ok(Err(TableError::Format));
        };
        let upload = Upload {
            id: uuid_v7(),
            file_name: file_name
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect(),
            content: serde_json::to_string(&table).map_err(|e| AppError::Corrupt(e.to_string()))?,
        };
        let mut tx = self.db.begin().await?;
        // Uploads hold pupil data only as long as the work takes.
        boom_uploads::delete_older_than(&mut tx, now() - Duration::days(1)).await?;
        boom_uploads::insert(&mut tx, who.school, user, &upload, now()).await?;
        audit(
            &mut tx,
            &who.actor,
            "boomnummers.bestand",
            Some(("upload", upload.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(upload.id))
    }

    /// The uploaded table (for the mapping form), if it exists for this school.
    pub async fn boom_upload(
        &self,
        school: SchoolId,
        upload: &str,
    ) -> Result<Option<(String, Table)>, AppError> {
        let mut c = self.db.conn().await?;
        let Some(u) = boom_uploads::get(&mut c, school, upload).await? else {
            return Ok(None);
        };
        let table: Table =
            serde_json::from_str(&u.content).map_err(|e| AppError::Corrupt(e.to_string()))?;
        Ok(Some((u.file_name, table)))
    }

    /// Checks a mapping against the table; errors name the field of the mapping form.
    pub fn check_mapping(
        table: &Table,
        boom: &str,
        key: &str,
        key_col: &str,
        dob_col: &str,
    ) -> Result<Mapping, FormErrors> {
        let mut errors = FormErrors::default();
        let col = |s: &str| s.parse::<usize>().ok().filter(|i| *i < table.headers.len());
        let boom = col(boom);
        if boom.is_none() {
            errors.add("boom", "Kies de kolom met het Boom-leerlingnummer.");
        }
        let key = KeyKind::parse(key);
        if key.is_none() {
            errors.add("sleutel", "Kies waarmee Startblok de leerling herkent.");
        }
        let key_col = col(key_col);
        if key_col.is_none() {
            errors.add(
                "sleutelkolom",
                "Kies de kolom waarmee Startblok de leerling herkent.",
            );
        }
        let dob = col(dob_col);
        if key == Some(KeyKind::NameAndBirthDate) && dob.is_none() {
            errors.add("geboortekolom", "Kies ook de kolom met de geboortedatum.");
        }
        if boom.is_some() && boom == key_col {
            errors.add(
                "sleutelkolom",
                "Kies een andere kolom dan die met het Boom-leerlingnummer.",
            );
        }
        match (boom, key, key_col) {
            (Some(boom), Some(key), Some(key_col)) if errors.is_empty() => Ok(Mapping {
                boom,
                key,
                key_col,
                dob_col: if key == KeyKind::NameAndBirthDate {
                    dob
                } else {
                    None
                },
            }),
            _ => Err(errors),
        }
    }

    /// What applying the file would do, row by row.
    pub async fn boom_preview(
        &self,
        school: SchoolId,
        upload: &str,
        mapping: &Mapping,
    ) -> Result<Option<Preview>, AppError> {
        let Some((file_name, table)) = self.boom_upload(school, upload).await? else {
            return Ok(None);
        };
        let mut c = self.db.conn().await?;
        let active: Vec<Pupil> = pupils::list(&mut c, school)
            .await?
            .into_iter()
            .filter(|p| p.uitgeschreven_op.is_none())
            .collect();
        let mut rows: Vec<PreviewRow> = Vec::new();
        for (i, r) in table.rows.iter().enumerate() {
            let key = r.get(mapping.key_col).cloned().unwrap_or_default();
            let boom_raw = r.get(mapping.boom).cloned().unwrap_or_default();
            let mut row = PreviewRow {
                line: i + 2,
                key: key.clone(),
                boom: boom_raw.clone(),
                pupil: None,
                status: RowStatus::NotFound,
            };
            let boom = match BoomLeerlingnummer::parse(&boom_raw) {
                Ok(Some(n)) => n.as_str().to_string(),
                Ok(None) => {
                    row.status = RowStatus::Invalid {
                        reason: "Geen Boom-leerlingnummer in deze regel.".into(),
                    };
                    rows.push(row);
                    continue;
                }
                Err(e) => {
                    row.status = RowStatus::Invalid {
                        reason: e.to_string(),
                    };
                    rows.push(row);
                    continue;
                }
            };
            row.boom = boom.clone();
            let candidates: Vec<&Pupil> = match mapping.key {
                KeyKind::LasKey => active
                    .iter()
                    .filter(|p| {
                        p.las_key
                            .as_deref()
                            .is_some_and(|k| same_key(key.trim(), k))
                    })
                    .collect(),
                KeyKind::EckId => active
                    .iter()
                    .filter(|p| p.eck_id.as_deref() == Some(key.trim()))
                    .collect(),
                KeyKind::NameAndBirthDate => {
                    let dob_raw = mapping
                        .dob_col
                        .and_then(|c| r.get(c))
                        .cloned()
                        .unwrap_or_default();
                    match parse_date(&dob_raw) {
                        Ok(Some(dob)) => {
                            row.key = format!("{key}, {dob_raw}");
                            active
                                .iter()
                                .filter(|p| {
                                    p.geboortedatum == Some(dob) && surname_matches(&key, p)
                                })
                                .collect()
                        }
                        _ => {
                            row.status = RowStatus::Invalid {
                                reason: format!("Geboortedatum '{dob_raw}' is geen datum."),
                            };
                            rows.push(row);
                            continue;
                        }
                    }
                }
            };
            if key.trim().is_empty() {
                row.status = RowStatus::Invalid {
                    reason: "Deze regel heeft geen gegevens om de leerling te herkennen.".into(),
                };
            } else {
                row.status = match candidates.as_slice() {
                    [] => RowStatus::NotFound,
                    [p] => {
                        row.pupil = Some((*p).clone());
                        match &p.boom_leerlingnummer {
                            None => RowStatus::New,
                            Some(old) if *old == boom => RowStatus::Unchanged,
                            Some(old) => RowStatus::Overwrite { old: old.clone() },
                        }
                    }
                    many => RowStatus::Ambiguous { count: many.len() },
                };
            }
            rows.push(row);
        }
        // The same pupil or the same number twice in one file: neither row is applied.
        let snapshot = rows.clone();
        for r in rows.iter_mut().filter(|r| r.applicable()) {
            let twice = snapshot.iter().any(|o| {
                o.line != r.line
                    && o.applicable()
                    && (o.boom == r.boom
                        || o.pupil.as_ref().map(|p| &p.id) == r.pupil.as_ref().map(|p| &p.id))
            });
            if twice {
                r.status = RowStatus::DuplicateInFile;
            }
        }
        Ok(Some(Preview {
            file_name,
            headers: table.headers,
            rows,
        }))
    }

    /// Applies the confirmed rows (by line number), all or none. Returns how many numbers changed,
    /// or the refusal per line.
    pub async fn apply_boom_file(
        &self,
        who: &InSchool,
        upload: &str,
        mapping: &Mapping,
        confirmed: &[usize],
    ) -> Result<Option<Result<usize, Vec<(usize, String)>>>, AppError> {
        let Some(preview) = self.boom_preview(who.school, upload, mapping).await? else {
            return Ok(None);
        };
        let chosen: Vec<&PreviewRow> = preview
            .rows
            .iter()
            .filter(|r| r.applicable() && confirmed.contains(&r.line))
            .collect();
        let entries: Vec<(String, String)> = chosen
            .iter()
            .filter_map(|r| r.pupil.as_ref().map(|p| (p.id.clone(), r.boom.clone())))
            .collect();
        match self.save_boom_bulk(who, &entries).await? {
            Ok(n) => {
                let mut c = self.db.conn().await?;
                boom_uploads::delete(&mut c, who.school, upload).await?;
                Ok(Some(Ok(n)))
            }
            Err(errors) => Ok(Some(Err(errors
                .into_iter()
                .map(|(pupil, msg)| {
                    let line = chosen
                        .iter()
                        .find(|r| r.pupil.as_ref().is_some_and(|p| p.id == pupil))
                        .map(|r| r.line)
                        .unwrap_or(0);
                    (line, msg)
                })
                .collect()))),
        }
    }
}
