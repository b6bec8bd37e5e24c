//! Importeren: a school's EDEXML export (ParnasSys, ESIS, Magister) into Startblok.
//!
//! Three steps, each its own use case:
//! 1. [`App::stage_import`] reads the file with `startblok_edexml`, checks that it belongs to this
//!    school, and keeps the allow-listed roster (never the file) until the Beheerder decides.
//! 2. [`App::import_view`] shows what would change: [`plan`] compares the roster with what
//!    Startblok has, as a pure function, so the preview and the apply can never disagree on rules.
//! 3. [`App::apply_import`] plans again inside one transaction, refuses when the plan is not the
//!    one the Beheerder saw (its [`Plan::fingerprint`]), writes everything, and keeps a report
//!    (counts and warnings, no names) in the import history. Progress is published while it runs.
//!
//! Matching: ECK-iD first, then the LAS key; keys starting with `#` are dummies and never match.
//! A pupil missing from a later export is marked uitgeschreven, never deleted. Fields Startblok
//! owns (Boom-leerlingnummer, toetsdoel, newcomer data, fase entries) are never written here;
//! the country of birth fills `land van herkomst` only when a pupil is created.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use startblok_db::groups::{self, Group};
use startblok_db::imports::{self, Import, Status};
use startblok_db::pupils::{self, Pupil};
use startblok_db::users::{self, Member};
use startblok_db::{DbError, Tx};
use startblok_domain::{Email, PersonName, Role, SchoolCode, SchoolId, UserId, today_nl};
use startblok_edexml::{Leerkracht, Leerling, ParseError, Roster};
use time::{Date, Duration};

use crate::pupils::InSchool;
use crate::toetsdoelen::uuid_v7;
use crate::{App, AppError, audit, now};

/// The largest EDEXML file accepted (50,000 pupils are about 24 MB).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;
/// A preview nobody confirms is removed after this long (it holds pupil data).
pub const PREVIEW_KEPT: Duration = Duration::days(1);
/// An import still `bezig` without any progress on this server after this long was cut off
/// (the process stopped); its transaction was rolled back, so nothing of it was applied.
pub const RUNNING_STALE: Duration = Duration::minutes(10);

/// What Startblok has now, as far as an import is concerned.
#[derive(Debug, Clone, Default)]
pub struct Current {
    pub pupils: Vec<Pupil>,
    pub groups: Vec<Group>,
    /// (LAS key, user) of teachers that came from an earlier import.
    pub team_keys: Vec<(String, UserId)>,
    pub members: Vec<Member>,
    /// (group id, user) links.
    pub links: Vec<(String, UserId)>,
}

/// One field that an import would change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPupil {
    /// The file's key for this pupil: the LAS key, or `eck:` + ECK-iD when the key is a dummy.
    pub file_key: String,
    pub pupil: Pupil,
    pub groep: Option<String>,
    /// A manually added pupil with the same name and birth date: probably the same child.
    pub suggestion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPupil {
    /// The pupil as it will be (group ids of new groups are `new:KEY` until applied).
    pub pupil: Pupil,
    pub naam: String,
    pub changes: Vec<FieldChange>,
    /// A manually added pupil the Beheerder matched to this file pupil.
    pub from_manual: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftPupil {
    pub pupil_id: String,
    pub naam: String,
    pub groep: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    New {
        key: String,
        naam: String,
        jaargroep: Option<String>,
    },
    Changed {
        group: Group,
        changes: Vec<FieldChange>,
    },
    Deactivated {
        group: Group,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeacher {
    pub key: String,
    pub naam: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChange {
    /// Group id, or `new:KEY`.
    pub group: String,
    pub group_naam: String,
    /// User ids, or `new:KEY` for teachers this import adds.
    pub teachers: Vec<String>,
    pub names: Vec<String>,
}

/// Everything an import would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub new_pupils: Vec<NewPupil>,
    pub changed_pupils: Vec<ChangedPupil>,
    pub left_pupils: Vec<LeftPupil>,
    pub unchanged: usize,
    pub groups: Vec<GroupChange>,
    pub new_teachers: Vec<NewTeacher>,
    pub links: Vec<LinkChange>,
    pub warnings: Vec<String>,
    /// Manually added pupils not yet linked to the LAS, to match new pupils with.
    pub manual: Vec<(String, String)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.new_pupils.is_empty()
            && self.changed_pupils.is_empty()
            && self.left_pupils.is_empty()
            && self.groups.is_empty()
            && self.new_teachers.is_empty()
            && self.links.is_empty()
    }

    /// A digest of what the plan would do (not of the suggestions it makes): the preview sends
    /// it along, and the apply refuses when the plan it makes then is a different one.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for p in &self.new_pupils {
            h.update(format!("N{}|{:?}\n", p.file_key, without_id(&p.pupil)));
        }
        for p in &self.changed_pupils {
            h.update(format!("C{:?}|{}\n", p.pupil, p.from_manual));
        }
        for p in &self.left_pupils {
            h.update(format!("L{}\n", p.pupil_id));
        }
        for g in &self.groups {
            h.update(format!("G{g:?}\n"));
        }
        for t in &self.new_teachers {
            h.update(format!("T{t:?}\n"));
        }
        for l in &self.links {
            h.update(format!("K{}|{:?}\n", l.group, l.teachers));
        }
        hex(&h.finalize())[..32].to_string()
    }

    pub fn report(&self) -> Report {
        let count = |f: fn(&GroupChange) -> bool| self.groups.iter().filter(|g| f(g)).count();
        Report {
            new_pupils: self.new_pupils.len(),
            changed_pupils: self
                .changed_pupils
                .iter()
                .filter(|c| !c.from_manual)
                .count(),
            matched_manual: self.changed_pupils.iter().filter(|c| c.from_manual).count(),
            left_pupils: self.left_pupils.len(),
            unchanged_pupils: self.unchanged,
            new_groups: count(|g| matches!(g, GroupChange::New { .. })),
            changed_groups: count(|g| matches!(g, GroupChange::Changed { .. })),
            deactivated_groups: count(|g| matches!(g, GroupChange::Deactivated { .. })),
            new_teachers: self.new_teachers.len(),
            changed_links: self.links.len(),
            warnings: self.warnings.clone(),
        }
    }
}

fn without_id(p: &Pupil) -> Pupil {
    Pupil {
        id: String::new(),
        ..p.clone()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an import did (or, before it is applied, what the file said): counts and warnings, no
/// names. Kept in the import history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    pub new_pupils: usize,
    pub changed_pupils: usize,
    pub matched_manual: usize,
    pub left_pupils: usize,
    pub unchanged_pupils: usize,
    pub new_groups: usize,
    pub changed_groups: usize,
    pub deactivated_groups: usize,
    pub new_teachers: usize,
    pub changed_links: usize,
    pub warnings: Vec<String>,
}

impl Report {
    /// The counts in words ("36 nieuwe leerlingen", "1 nieuwe leerling"), leaving out what is
    /// zero.
    pub fn counts(&self) -> Vec<(usize, &'static str)> {
        [
            (self.new_pupils, "nieuwe leerling", "nieuwe leerlingen"),
            (
                self.matched_manual,
                "leerling gekoppeld aan een handmatig toegevoegde leerling",
                "leerlingen gekoppeld aan een handmatig toegevoegde leerling",
            ),
            (
                self.changed_pupils,
                "leerling gewijzigd",
                "leerlingen gewijzigd",
            ),
            (
                self.left_pupils,
                "leerling uitgeschreven",
                "leerlingen uitgeschreven",
            ),
            (
                self.unchanged_pupils,
                "leerling ongewijzigd",
                "leerlingen ongewijzigd",
            ),
            (self.new_groups, "nieuwe groep", "nieuwe groepen"),
            (self.changed_groups, "groep gewijzigd", "groepen gewijzigd"),
            (
                self.deactivated_groups,
                "groep inactief",
                "groepen inactief",
            ),
            (
                self.new_teachers,
                "leerkracht in het team",
                "leerkrachten in het team",
            ),
            (
                self.changed_links,
                "groep met andere leerkrachten",
                "groepen met andere leerkrachten",
            ),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, more)| (n, if n == 1 { one } else { more }))
        .collect()
    }
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn show(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(leeg)".into())
}

fn show_date(d: Option<Date>) -> String {
    d.map(startblok_domain::format_date)
        .unwrap_or_else(|| "(leeg)".into())
}

fn teacher_name(t: &Leerkracht) -> String {
    let first = t.roepnaam.as_ref().or(t.voorletters.as_ref());
    [first, t.voorvoegsel.as_ref(), t.achternaam.as_ref()]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The longest name part Startblok keeps; longer ones are cut with a warning.
const MAX_NAME: usize = 200;

/// A name from the file as Startblok keeps it: control characters and characters that take no
/// room on screen (direction overrides, zero-width spaces) removed, white space folded, at most
/// [`MAX_NAME`] characters. Letters of every script are kept exactly as written (no
/// normalisation).
fn name(v: &Option<String>, who: &str, warnings: &mut Vec<String>) -> Option<String> {
    let raw = v.as_deref()?;
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !startblok_domain::is_invisible(*c))
        .collect();
    let mut cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.chars().count() > MAX_NAME {
        cleaned = cleaned.chars().take(MAX_NAME).collect();
        warnings.push(format!(
            "Een naam van leerling {who} is langer dan {MAX_NAME} tekens en is ingekort."
        ));
    }
    if cleaned.is_empty() {
        None
    } else {
        Some(cleaned)
    }
}

/// A date from the file (`YYYY-MM-DD`); anything else is dropped with a warning.
fn file_date(
    v: &Option<String>,
    what: &str,
    who: &str,
    warnings: &mut Vec<String>,
) -> Option<Date> {
    let s = nonempty(v)?;
    match pupils::parse_date(&s) {
        Some(d) => Some(d),
        None => {
            warnings.push(format!(
                "De {what} van leerling {who} ('{s}') is geen geldige datum en is niet overgenomen."
            ));
            None
        }
    }
}

/// Writes the fields the LAS owns onto `p` (identity, group, school dates, and whether the pupil
/// has left according to the file). Nothing else is touched.
fn las_fields(
    p: &mut Pupil,
    l: &Leerling,
    group_id: Option<String>,
    today: Date,
    warnings: &mut Vec<String>,
) {
    let who = l.key.clone();
    if !l.is_dummy_key() {
        p.las_key = Some(l.key.clone());
    }
    if let Some(e) = nonempty(&l.eckid) {
        p.eck_id = Some(e);
    }
    p.achternaam = name(&l.achternaam, &who, warnings).unwrap_or_default();
    p.voorvoegsel = name(&l.voorvoegsel, &who, warnings);
    p.voornamen = name(&l.voornamen, &who, warnings);
    p.roepnaam = name(&l.roepnaam, &who, warnings);
    p.geboortedatum = file_date(&l.geboortedatum, "geboortedatum", &who, warnings);
    p.geslacht = nonempty(&l.geslacht);
    p.group_id = group_id;
    p.jaargroep = nonempty(&l.jaargroep);
    p.instroomdatum = file_date(&l.instroomdatum, "instroomdatum", &who, warnings);
    p.start_groep3 = file_date(&l.start_groep3, "start groep 3", &who, warnings);
    p.uitstroomdatum = file_date(&l.uitstroomdatum, "uitstroomdatum", &who, warnings);
    p.imported = true;
    // The LAS says the pupil has left: an uitstroomdatum that has passed.
    p.uitgeschreven_op = p.uitstroomdatum.filter(|d| *d <= today);
}

/// The differences people care about between two states of a pupil, in the form's words.
fn pupil_changes(
    old: &Pupil,
    new: &Pupil,
    group_name: &dyn Fn(&Option<String>) -> String,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut text = |field: &'static str, a: &Option<String>, b: &Option<String>| {
        if a != b {
            out.push(FieldChange {
                field,
                old: show(a),
                new: show(b),
            });
        }
    };
    text("LAS-sleutel", &old.las_key, &new.las_key);
    text(
        "ECK-iD (laatste 6 tekens)",
        &old.eck_id.as_ref().map(|e| tail(e)),
        &new.eck_id.as_ref().map(|e| tail(e)),
    );
    text(
        "Achternaam",
        &Some(old.achternaam.clone()),
        &Some(new.achternaam.clone()),
    );
    text("Voorvoegsel", &old.voorvoegsel, &new.voorvoegsel);
    text("Voornamen", &old.voornamen, &new.voornamen);
    text("Roepnaam", &old.roepnaam, &new.roepnaam);
    text("Geslacht", &old.geslacht, &new.geslacht);
    text("Jaargroep", &old.jaargroep, &new.jaargroep);
    let mut date = |field: &'static str, a: Option<Date>, b: Option<Date>| {
        if a != b {
            out.push(FieldChange {
                field,
                old: show_date(a),
                new: show_date(b),
            });
        }
    };
    date("Geboortedatum", old.geboortedatum, new.geboortedatum);
    date("Instroomdatum", old.instroomdatum, new.instroomdatum);
    date("Start groep 3", old.start_groep3, new.start_groep3);
    date("Uitstroomdatum", old.uitstroomdatum, new.uitstroomdatum);
    date(
        "Uitgeschreven op",
        old.uitgeschreven_op,
        new.uitgeschreven_op,
    );
    if old.group_id != new.group_id {
        out.push(FieldChange {
            field: "Groep",
            old: group_name(&old.group_id),
            new: group_name(&new.group_id),
        });
    }
    if old.eck_id != new.eck_id && out.iter().all(|c| c.field != "ECK-iD (laatste 6 tekens)") {
        out.push(FieldChange {
            field: "ECK-iD",
            old: "(ander ECK-iD)".into(),
            new: "(nieuw ECK-iD)".into(),
        });
    }
    out
}

/// The last 6 characters of an ECK-iD: all Startblok ever shows of it.
pub fn tail(eck: &str) -> String {
    let chars: Vec<char> = eck.chars().collect();
    let n = chars.len();
    format!(
        "…{}",
        chars[n.saturating_sub(6)..].iter().collect::<String>()
    )
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Compares the roster with what Startblok has. `matches` maps a new pupil's file key to the
/// manually added pupil the Beheerder says it is. Pure: no database, no clock.
pub fn plan(
    roster: &Roster,
    current: &Current,
    matches: &HashMap<String, String>,
    today: Date,
) -> Plan {
    let mut plan = Plan::default();
    let mut warnings = Vec::new();

    // Groups first: pupils point to them.
    let file_keys: HashSet<&str> = roster.groepen.iter().map(|g| g.key.as_str()).collect();
    let mut group_target: HashMap<String, String> = HashMap::new();
    let mut group_names: HashMap<String, String> = current
        .groups
        .iter()
        .map(|g| (g.id.clone(), g.naam.clone()))
        .collect();
    let mut used_groups: HashSet<String> = HashSet::new();
    let mut taken_names: HashSet<String> = current.groups.iter().map(|g| fold(&g.naam)).collect();
    for fg in &roster.groepen {
        if fg.key.starts_with('#') {
            continue;
        }
        let naam = nonempty(&fg.naam).unwrap_or_else(|| fg.key.clone());
        let jaargroep = nonempty(&fg.jaargroep);
        let existing = current
            .groups
            .iter()
            .find(|g| g.las_key.as_deref() == Some(fg.key.as_str()))
            .or_else(|| {
                // A group made by hand, or one whose LAS key changed, with the same name.
                current.groups.iter().find(|g| {
                    fold(&g.naam) == fold(&naam)
                        && !used_groups.contains(&g.id)
                        && g.las_key.as_deref().is_none_or(|k| !file_keys.contains(k))
                })
            });
        match existing {
            Some(g) => {
                used_groups.insert(g.id.clone());
                group_target.insert(fg.key.clone(), g.id.clone());
                let mut new = g.clone();
                new.las_key = Some(fg.key.clone());
                new.jaargroep = jaargroep;
                new.actief = true;
                if fold(&g.naam) != fold(&naam) && !taken_names.contains(&fold(&naam)) {
                    taken_names.insert(fold(&naam));
                    new.naam = naam;
                }
                if new != *g {
                    let mut changes = Vec::new();
                    let mut add = |field: &'static str, a: String, b: String| {
                        if a != b {
                            changes.push(FieldChange {
                                field,
                                old: a,
                                new: b,
                            });
                        }
                    };
                    add("Naam", g.naam.clone(), new.naam.clone());
                    add("Jaargroep", show(&g.jaargroep), show(&new.jaargroep));
                    add("LAS-sleutel", show(&g.las_key), show(&new.las_key));
                    add(
                        "Actief",
                        if g.actief { "ja" } else { "nee" }.into(),
                        "ja".into(),
                    );
                    group_names.insert(g.id.clone(), new.naam.clone());
                    plan.groups.push(GroupChange::Changed {
                        group: new,
                        changes,
                    });
                }
            }
            None => {
                let mut naam = naam;
                if taken_names.contains(&fold(&naam)) {
                    naam = format!("{naam} ({})", fg.key);
                }
                taken_names.insert(fold(&naam));
                let id = format!("new:{}", fg.key);
                group_target.insert(fg.key.clone(), id.clone());
                group_names.insert(id, naam.clone());
                plan.groups.push(GroupChange::New {
                    key: fg.key.clone(),
                    naam,
                    jaargroep,
                });
            }
        }
    }
    for g in &current.groups {
        if g.actief && g.las_key.is_some() && !used_groups.contains(&g.id) {
            let mut new = g.clone();
            new.actief = false;
            plan.groups.push(GroupChange::Deactivated { group: new });
        }
    }
    let group_name = |id: &Option<String>| -> String {
        id.as_ref()
            .map(|i| {
                group_names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| "(onbekend)".into())
            })
            .unwrap_or_else(|| "(geen)".into())
    };

    // Pupils.
    let mut by_eck: HashMap<&str, usize> = HashMap::new();
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for (i, p) in current.pupils.iter().enumerate() {
        if let Some(e) = p.eck_id.as_deref() {
            by_eck.entry(e).or_insert(i);
        }
        if let Some(k) = p.las_key.as_deref().filter(|k| !k.starts_with('#')) {
            by_key.entry(k).or_insert(i);
        }
    }
    let manual: Vec<usize> = current
        .pupils
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.imported && p.las_key.is_none() && p.eck_id.is_none())
        .map(|(i, _)| i)
        .collect();
    let mut used: HashSet<usize> = HashSet::new();
    let mut suggested: HashSet<usize> = HashSet::new();
    for l in &roster.leerlingen {
        let eck = nonempty(&l.eckid);
        let found = eck
            .as_deref()
            .and_then(|e| by_eck.get(e))
            .or_else(|| {
                if l.is_dummy_key() {
                    None
                } else {
                    by_key.get(l.key.as_str())
                }
            })
            .copied()
            .filter(|i| !used.contains(i));
        let file_key = if l.is_dummy_key() {
            match &eck {
                Some(e) => format!("eck:{e}"),
                None => {
                    warnings.push(format!(
                        "Leerling {} heeft alleen een tijdelijke sleutel ({}) en geen ECK-iD; deze leerling is overgeslagen. Geef de leerling in de leerlingadministratie een vaste sleutel.",
                        nonempty(&l.achternaam).unwrap_or_default(),
                        l.key
                    ));
                    continue;
                }
            }
        } else {
            l.key.clone()
        };
        let group_id = match nonempty(&l.groep) {
            Some(k) => group_target.get(&k).cloned(),
            None => None,
        };
        if let Some(i) = found {
            used.insert(i);
            let old = &current.pupils[i];
            let mut new = old.clone();
            las_fields(&mut new, l, group_id, today, &mut warnings);
            if new == *old {
                plan.unchanged += 1;
            } else {
                plan.changed_pupils.push(ChangedPupil {
                    naam: new.sort_name(),
                    changes: pupil_changes(old, &new, &group_name),
                    pupil: new,
                    from_manual: false,
                });
            }
            continue;
        }
        // A manual pupil the Beheerder chose for this file pupil.
        let chosen = matches.get(&file_key).and_then(|id| {
            manual
                .iter()
                .copied()
                .find(|&i| current.pupils[i].id == *id && !used.contains(&i))
        });
        if let Some(i) = chosen {
            used.insert(i);
            let old = &current.pupils[i];
            let mut new = old.clone();
            las_fields(&mut new, l, group_id, today, &mut warnings);
            if new.land_herkomst.is_none() {
                new.land_herkomst = nonempty(&l.land);
            }
            plan.changed_pupils.push(ChangedPupil {
                naam: new.sort_name(),
                changes: pupil_changes(old, &new, &group_name),
                pupil: new,
                from_manual: true,
            });
            continue;
        }
        let mut p = Pupil::default();
        las_fields(&mut p, l, group_id.clone(), today, &mut warnings);
        p.land_herkomst = nonempty(&l.land);
        if p.achternaam.is_empty() {
            warnings.push(format!(
                "Leerling {file_key} heeft geen achternaam in het bestand."
            ));
        }
        let suggestion = manual
            .iter()
            .copied()
            .find(|&i| {
                let m = &current.pupils[i];
                !suggested.contains(&i)
                    && m.uitgeschreven_op.is_none()
                    && fold(&m.achternaam) == fold(&p.achternaam)
                    && m.geboortedatum.is_some()
                    && m.geboortedatum == p.geboortedatum
            })
            .inspect(|&i| {
                suggested.insert(i);
            })
            .map(|i| current.pupils[i].id.clone());
        plan.new_pupils.push(NewPupil {
            file_key,
            groep: group_id.map(|g| group_name(&Some(g))),
            pupil: p,
            suggestion,
        });
    }
    // Suggestions first, so they are on top of the preview.
    plan.new_pupils
        .sort_by_key(|n| (n.suggestion.is_none(), n.pupil.sort_name().to_lowercase()));
    for (i, p) in current.pupils.iter().enumerate() {
        if p.imported && p.uitgeschreven_op.is_none() && !used.contains(&i) {
            plan.left_pupils.push(LeftPupil {
                pupil_id: p.id.clone(),
                naam: p.sort_name(),
                groep: p.group_id.as_ref().map(|g| group_name(&Some(g.clone()))),
            });
        }
    }
    plan.left_pupils.sort_by_key(|l| l.naam.to_lowercase());
    let active_imported = current
        .pupils
        .iter()
        .filter(|p| p.imported && p.uitgeschreven_op.is_none())
        .count();
    if active_imported >= 10 && plan.left_pupils.len() * 2 > active_imported {
        warnings.insert(
            0,
            format!(
                "Let op: {} van de {} leerlingen staan niet in dit bestand en worden uitgeschreven. Is dit de volledige export van de hele school?",
                plan.left_pupils.len(),
                active_imported
            ),
        );
    }
    plan.manual = manual
        .iter()
        .filter(|&&i| !used.contains(&i) && current.pupils[i].uitgeschreven_op.is_none())
        .map(|&i| {
            let p = &current.pupils[i];
            let dob = p
                .geboortedatum
                .map(|d| format!(", {}", startblok_domain::format_date(d)))
                .unwrap_or_default();
            (p.id.clone(), format!("{}{dob}", p.sort_name()))
        })
        .collect();

    // Teachers: team members without a login until a Beheerder invites them.
    let mut teacher_target: HashMap<String, (String, String)> = HashMap::new();
    let imported_users: HashSet<UserId> = current.team_keys.iter().map(|(_, u)| *u).collect();
    let member_name = |u: &UserId| {
        current
            .members
            .iter()
            .find(|m| m.user.id == *u)
            .map(|m| m.user.naam.clone())
            .unwrap_or_default()
    };
    for t in &roster.leerkrachten {
        if t.key.starts_with('#') {
            continue;
        }
        let naam = teacher_name(t);
        if let Some((_, u)) = current.team_keys.iter().find(|(k, _)| *k == t.key) {
            teacher_target.insert(t.key.clone(), (u.to_string(), member_name(u)));
            continue;
        }
        let email = nonempty(&t.emailadres).and_then(|e| Email::parse(&e).ok());
        let Some(email) = email else {
            warnings.push(format!(
                "Leerkracht {} ({}) heeft geen (geldig) e-mailadres in het bestand en is niet aan het team toegevoegd.",
                if naam.is_empty() { "zonder naam" } else { &naam },
                t.key
            ));
            continue;
        };
        if let Some(m) = current
            .members
            .iter()
            .find(|m| m.user.email.to_lowercase() == email.lookup())
        {
            // Already in the team (added by hand): from now on linked to the LAS key.
            teacher_target.insert(t.key.clone(), (m.user.id.to_string(), m.user.naam.clone()));
            plan.new_teachers.push(NewTeacher {
                key: t.key.clone(),
                naam: m.user.naam.clone(),
                email: m.user.email.clone(),
            });
            continue;
        }
        let naam = if naam.is_empty() {
            email.as_str().to_string()
        } else {
            naam
        };
        teacher_target.insert(t.key.clone(), (format!("new:{}", t.key), naam.clone()));
        plan.new_teachers.push(NewTeacher {
            key: t.key.clone(),
            naam,
            email: email.as_str().to_string(),
        });
    }
    // Links: a group keeps the teachers linked by hand and gets the file's teachers.
    for fg in &roster.groepen {
        let Some(gid) = group_target.get(&fg.key) else {
            continue;
        };
        let current_links: Vec<String> = current
            .links
            .iter()
            .filter(|(g, _)| g == gid)
            .map(|(_, u)| u.to_string())
            .collect();
        let mut want: BTreeMap<String, String> = current
            .links
            .iter()
            .filter(|(g, u)| g == gid && !imported_users.contains(u))
            .map(|(_, u)| (u.to_string(), member_name(u)))
            .collect();
        for t in &roster.leerkrachten {
            if t.groepen.contains(&fg.key)
                && let Some((id, naam)) = teacher_target.get(&t.key)
            {
                want.insert(id.clone(), naam.clone());
            }
        }
        let mut have = current_links.clone();
        have.sort();
        let want_ids: Vec<String> = want.keys().cloned().collect();
        if have != want_ids {
            plan.links.push(LinkChange {
                group: gid.clone(),
                group_naam: group_name(&Some(gid.clone())),
                teachers: want_ids,
                names: want.values().cloned().collect(),
            });
        }
    }
    // The parser's own warnings travel beside the stored roster; see `with_file_warnings`.
    plan.warnings = warnings;
    plan
}

/// Live progress of an import being applied on this server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub step: &'static str,
    pub done: usize,
    pub total: usize,
}

impl Progress {
    pub fn percent(&self) -> usize {
        (self.done * 100)
            .checked_div(self.total)
            .unwrap_or(0)
            .min(100)
    }
}

/// Imports being applied on this server, by id. Shared by all clones of the [`App`].
#[derive(Debug, Clone, Default)]
pub struct Jobs(Arc<Mutex<HashMap<String, Progress>>>);

impl Jobs {
    fn set(&self, id: &str, step: &'static str, done: usize, total: usize) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(id.to_string(), Progress { step, done, total });
        }
    }
    fn remove(&self, id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(id);
        }
    }
    pub fn get(&self, id: &str) -> Option<Progress> {
        self.0.lock().ok().and_then(|m| m.get(id).cloned())
    }
}

/// Why a file was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StageError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(
        "Dit bestand is van school {file}, niet van {school}. Kies de export van deze school, of wissel eerst van school."
    )]
    OtherSchool { file: String, school: String },
    #[error(
        "Het bestand is groter dan 64 MB. Een EDEXML-export van een school is veel kleiner; controleer of je het goede bestand kiest."
    )]
    TooLarge,
    #[error("Het bestand bevat geen leerlingen en geen groepen.")]
    Nothing,
    #[error(
        "Het bestand noemt niet van welke school het is (er staat geen brincode in). Maak de export opnieuw vanuit de leerlingadministratie van deze school."
    )]
    NoSchool,
}

/// What the import page shows.
#[derive(Debug, Clone)]
pub enum ImportState {
    /// Waiting for the Beheerder: the plan and its fingerprint.
    Preview {
        plan: Box<Plan>,
        fingerprint: String,
    },
    Running {
        progress: Option<Progress>,
    },
    /// Still `bezig` but cut off (the server stopped): nothing of it was applied.
    CutOff,
    Applied {
        report: Report,
    },
    Failed {
        message: String,
    },
    Expired,
}

#[derive(Debug, Clone)]
pub struct ImportView {
    pub import: Import,
    pub state: ImportState,
}

/// The outcome of asking to apply.
#[derive(Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Claimed by [`App::claim_import`] (apply it next), or applied by [`App::apply_import`].
    Applied(Report),
    /// The situation changed since the preview: look again.
    Stale,
    /// Already applied, being applied, or expired.
    NotPending,
}

/// One entry of the import history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub import: Import,
    pub report: Option<Report>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.trim().is_empty() {
        "(zonder naam)".into()
    } else {
        s
    }
}

async fn load_current(tx: &mut Tx, school: SchoolId) -> Result<Current, AppError> {
    Ok(Current {
        pupils: pupils::list(tx, school).await?,
        groups: groups::list(tx, school).await?,
        team_keys: imports::team_keys(tx, school).await?,
        members: users::members_of(tx, school).await?,
        links: groups::teacher_links(tx, school).await?,
    })
}

fn read_roster(import: &Import) -> Result<Roster, AppError> {
    let json = import
        .roster
        .as_deref()
        .ok_or_else(|| AppError::Corrupt(format!("import {} has no roster", import.id)))?;
    serde_json::from_str(json).map_err(|e| AppError::Corrupt(e.to_string()))
}

/// The parser's warnings (duplicate keys, pupils without a key, unknown groups, …) are stored as
/// text beside the roster (the roster's own `warnings` are not serialised): put them first.
fn with_file_warnings(plan: &mut Plan, import: &Import) {
    let stored = read_report(import).warnings;
    plan.warnings.splice(0..0, stored);
}

fn read_report(import: &Import) -> Report {
    import
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default()
}

impl App {
    /// Step 1: reads the file, checks it is this school's, and keeps its roster for the preview.
    /// Returns the import's id, or why the file was not taken.
    pub async fn stage_import(
        &self,
        who: &InSchool,
        school_code: &SchoolCode,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Result<String, StageError>, AppError> {
        if bytes.len() > MAX_IMPORT_BYTES {
            return Ok(Err(StageError::TooLarge));
        }
        let roster = match startblok_edexml::parse(bytes) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e.into())),
        };
        if roster.leerlingen.is_empty() && roster.groepen.is_empty() {
            return Ok(Err(StageError::Nothing));
        }
        let Some(brin) = nonempty(&roster.school.brincode) else {
            return Ok(Err(StageError::NoSchool));
        };
        {
            let dep = nonempty(&roster.school.dependancecode).unwrap_or_else(|| "00".into());
            let same = brin.eq_ignore_ascii_case(school_code.brin.as_str())
                && dep == school_code.dependance.as_str();
            if !same {
                return Ok(Err(StageError::OtherSchool {
                    file: format!("{brin}-{dep}"),
                    school: school_code.to_string(),
                }));
            }
        }
        let preview = Report {
            warnings: roster.warnings.iter().map(|w| w.to_string()).collect(),
            ..Report::default()
        };
        let t = now();
        let import = Import {
            id: uuid_v7(),
            actor_id: who.actor.user_id,
            actor: who.actor.label.clone(),
            file_name: clean_file_name(file_name),
            file_hash: sha256_hex(bytes),
            roster: Some(
                serde_json::to_string(&roster).map_err(|e| AppError::Corrupt(e.to_string()))?,
            ),
            status: Status::Preview,
            report: Some(
                serde_json::to_string(&preview).map_err(|e| AppError::Corrupt(e.to_string()))?,
            ),
            message: None,
            created_at: t,
            updated_at: t,
        };
        let mut tx = self.db.begin().await?;
        imports::expire_previews(&mut tx, t - PREVIEW_KEPT).await?;
        imports::insert(&mut tx, who.school, &import).await?;
        audit(
            &mut tx,
            &who.actor,
            "import.gelezen",
            Some(("import", import.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(import.id))
    }

    /// Step 2: the preview (or the progress, or the outcome) of one import.
    pub async fn import_view(
        &self,
        school: SchoolId,
        import: &str,
    ) -> Result<Option<ImportView>, AppError> {
        let mut tx = self.db.begin().await?;
        imports::expire_previews(&mut tx, now() - PREVIEW_KEPT).await?;
        let Some(imp) = imports::get(&mut tx, school, import).await? else {
            return Ok(None);
        };
        let state = match imp.status {
            Status::Preview => {
                let roster = read_roster(&imp)?;
                let current = load_current(&mut tx, school).await?;
                let mut plan = plan(&roster, &current, &HashMap::new(), today_nl(now()));
                with_file_warnings(&mut plan, &imp);
                ImportState::Preview {
                    fingerprint: plan.fingerprint(),
                    plan: Box::new(plan),
                }
            }
            Status::Running => match self.jobs.get(import) {
                Some(p) => ImportState::Running { progress: Some(p) },
                None if now() - imp.updated_at > RUNNING_STALE => ImportState::CutOff,
                None => ImportState::Running { progress: None },
            },
            Status::Applied => ImportState::Applied {
                report: read_report(&imp),
            },
            Status::Failed => ImportState::Failed {
                message: imp.message.clone().unwrap_or_default(),
            },
            Status::Expired => ImportState::Expired,
        };
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(ImportView { import: imp, state }))
    }

    /// The school's import history, newest first.
    pub async fn import_history(&self, school: SchoolId) -> Result<Vec<HistoryRow>, AppError> {
        let mut c = self.db.conn().await?;
        Ok(imports::history(&mut c, school, 50)
            .await?
            .into_iter()
            .map(|i| HistoryRow {
                report: i.report.as_ref().map(|_| read_report(&i)),
                import: i,
            })
            .collect())
    }

    /// Drops a preview the Beheerder does not want (its roster is removed at once).
    pub async fn discard_import(&self, who: &InSchool, import: &str) -> Result<bool, AppError> {
        let mut tx = self.db.begin().await?;
        let t = now();
        let done = imports::transition(
            &mut tx,
            who.school,
            import,
            Status::Preview,
            Status::Expired,
            t,
        )
        .await?;
        if done {
            imports::finish(&mut tx, who.school, import, Status::Expired, None, None, t).await?;
            audit(
                &mut tx,
                &who.actor,
                "import.geannuleerd",
                Some(("import", import.to_string())),
                Some(who.school),
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(done)
    }

    /// Stages, claims and applies in one go (CLI, demo, tests), with the Beheerder's
    /// `matches`. Returns the import's id and what happened.
    pub async fn import_file(
        &self,
        who: &InSchool,
        school_code: &SchoolCode,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Result<(String, Report), StageError>, AppError> {
        let id = match self
            .stage_import(who, school_code, file_name, bytes)
            .await?
        {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        let Some(view) = self.import_view(who.school, &id).await? else {
            return Err(AppError::Corrupt(format!("import {id} vanished")));
        };
        let ImportState::Preview { fingerprint, .. } = view.state else {
            return Err(AppError::Corrupt(format!("import {id} is not a preview")));
        };
        self.claim_import(who.school, &id, &fingerprint).await?;
        match self
            .apply_import(who, &id, &fingerprint, &HashMap::new())
            .await?
        {
            ApplyOutcome::Applied(report) => Ok(Ok((id, report))),
            other => Err(AppError::Corrupt(format!("import {id}: {other:?}"))),
        }
    }

    /// Step 3, first half: claims the import for applying (`voorvertoning` → `bezig`) when the
    /// plan is still the one with `fingerprint`. The caller then runs [`App::apply_import`]
    /// (in the background for the web, directly for the CLI).
    pub async fn claim_import(
        &self,
        school: SchoolId,
        import: &str,
        fingerprint: &str,
    ) -> Result<Option<ApplyOutcome>, AppError> {
        let Some(view) = self.import_view(school, import).await? else {
            return Ok(None);
        };
        let ImportState::Preview {
            fingerprint: fp, ..
        } = view.state
        else {
            return Ok(Some(ApplyOutcome::NotPending));
        };
        if fp != fingerprint {
            return Ok(Some(ApplyOutcome::Stale));
        }
        let mut tx = self.db.begin().await?;
        let claimed = imports::transition(
            &mut tx,
            school,
            import,
            Status::Preview,
            Status::Running,
            now(),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        if !claimed {
            return Ok(Some(ApplyOutcome::NotPending));
        }
        self.jobs.set(import, "Voorbereiden", 0, 0);
        Ok(Some(ApplyOutcome::Applied(Report::default())))
    }

    /// Step 3, second half: applies a claimed import in one transaction. On failure nothing is
    /// changed and the import is marked `mislukt` with the reason.
    pub async fn apply_import(
        &self,
        who: &InSchool,
        import: &str,
        fingerprint: &str,
        matches: &HashMap<String, String>,
    ) -> Result<ApplyOutcome, AppError> {
        let result = self.apply_claimed(who, import, fingerprint, matches).await;
        self.jobs.remove(import);
        match result {
            Ok(outcome) => Ok(outcome),
            Err(e) => {
                tracing::error!(import, error = %e, "import mislukt");
                let mut tx = self.db.begin().await?;
                imports::finish(
                    &mut tx,
                    who.school,
                    import,
                    Status::Failed,
                    None,
                    Some("Het inlezen is mislukt door een fout in Startblok; er is niets veranderd. Probeer het opnieuw; blijft het misgaan, neem dan contact op met de beheerder van Startblok."),
                    now(),
                )
                .await?;
                tx.commit().await.map_err(DbError::from)?;
                Err(e)
            }
        }
    }

    async fn apply_claimed(
        &self,
        who: &InSchool,
        import: &str,
        fingerprint: &str,
        matches: &HashMap<String, String>,
    ) -> Result<ApplyOutcome, AppError> {
        let school = who.school;
        let t = now();
        let today = today_nl(t);
        let mut tx = self.db.begin().await?;
        let Some(imp) = imports::get(&mut tx, school, import).await? else {
            return Ok(ApplyOutcome::NotPending);
        };
        if imp.status != Status::Running {
            return Ok(ApplyOutcome::NotPending);
        }
        let roster = read_roster(&imp)?;
        let current = load_current(&mut tx, school).await?;
        if plan(&roster, &current, &HashMap::new(), today).fingerprint() != fingerprint {
            // Someone changed pupils or groups between the preview and now: back to preview.
            drop(tx);
            let mut tx = self.db.begin().await?;
            imports::transition(
                &mut tx,
                school,
                import,
                Status::Running,
                Status::Preview,
                now(),
            )
            .await?;
            tx.commit().await.map_err(DbError::from)?;
            return Ok(ApplyOutcome::Stale);
        }
        let mut plan = plan(&roster, &current, matches, today);
        with_file_warnings(&mut plan, &imp);
        let total = plan.new_pupils.len() + plan.changed_pupils.len() + plan.left_pupils.len();
        let jobs = &self.jobs;

        // Groups.
        jobs.set(import, "Groepen", 0, total);
        let mut group_ids: HashMap<String, String> = HashMap::new();
        for g in &plan.groups {
            match g {
                GroupChange::New {
                    key,
                    naam,
                    jaargroep,
                } => {
                    let id = uuid_v7();
                    groups::insert(
                        &mut tx,
                        school,
                        &Group {
                            id: id.clone(),
                            naam: naam.clone(),
                            jaargroep: jaargroep.clone(),
                            las_key: Some(key.clone()),
                            actief: true,
                        },
                        t,
                    )
                    .await?;
                    group_ids.insert(format!("new:{key}"), id);
                }
                GroupChange::Changed { group, .. } | GroupChange::Deactivated { group } => {
                    groups::update_with_key(&mut tx, school, group).await?;
                }
            }
        }
        let resolve = |g: &Option<String>| -> Option<String> {
            g.as_ref()
                .map(|id| group_ids.get(id).cloned().unwrap_or_else(|| id.clone()))
        };

        // Pupils: new ones in batches, then changes, then those who left.
        let mut done = 0;
        for chunk in plan.new_pupils.chunks(500) {
            let rows: Vec<Pupil> = chunk
                .iter()
                .map(|n| Pupil {
                    id: uuid_v7(),
                    group_id: resolve(&n.pupil.group_id),
                    ..n.pupil.clone()
                })
                .collect();
            pupils::insert_many(&mut tx, school, &rows, t).await?;
            done += rows.len();
            jobs.set(import, "Nieuwe leerlingen", done, total);
        }
        for c in &plan.changed_pupils {
            let p = Pupil {
                group_id: resolve(&c.pupil.group_id),
                ..c.pupil.clone()
            };
            pupils::update(&mut tx, school, &p, t).await?;
            done += 1;
            if done % 200 == 0 {
                jobs.set(import, "Gewijzigde leerlingen", done, total);
            }
        }
        for l in &plan.left_pupils {
            pupils::mark_left(&mut tx, school, &l.pupil_id, today, t).await?;
            done += 1;
            if done % 200 == 0 {
                jobs.set(import, "Uitgeschreven leerlingen", done, total);
            }
        }

        // Teachers and their groups.
        jobs.set(import, "Leerkrachten", done, total);
        let mut teacher_ids: HashMap<String, UserId> = HashMap::new();
        for nt in &plan.new_teachers {
            let email = Email::parse(&nt.email).map_err(|e| AppError::Corrupt(e.to_string()))?;
            let user = match users::by_email(&mut tx, email.lookup()).await? {
                Some(u) => u,
                None => {
                    let naam = PersonName::parse(&nt.naam)
                        .map(|n| n.as_str().to_string())
                        .unwrap_or_else(|_| email.as_str().to_string());
                    let u = users::User {
                        id: UserId::new(),
                        email: email.as_str().to_string(),
                        naam,
                        password_hash: None,
                        is_operator: false,
                        disabled: false,
                        created_at: t,
                        password_changed_at: None,
                    };
                    users::insert(&mut tx, &u, email.lookup()).await?;
                    u
                }
            };
            users::add_membership(&mut tx, school, user.id, Role::Leerkracht, t).await?;
            imports::set_team_key(&mut tx, school, &nt.key, user.id).await?;
            teacher_ids.insert(format!("new:{}", nt.key), user.id);
        }
        for l in &plan.links {
            let gid = resolve(&Some(l.group.clone())).unwrap_or_default();
            let ids: Vec<UserId> = l
                .teachers
                .iter()
                .filter_map(|t| teacher_ids.get(t).copied().or_else(|| t.parse().ok()))
                .collect();
            groups::set_teachers(&mut tx, school, &gid, &ids).await?;
        }

        let report = plan.report();
        let json = serde_json::to_string(&report).map_err(|e| AppError::Corrupt(e.to_string()))?;
        imports::finish(
            &mut tx,
            school,
            import,
            Status::Applied,
            Some(&json),
            None,
            now(),
        )
        .await?;
        audit(
            &mut tx,
            &who.actor,
            "import.toegepast",
            Some(("import", import.to_string())),
            Some(school),
        )
        .await?;
        jobs.set(import, "Opslaan", total, total);
        tx.commit().await.map_err(DbError::from)?;
        Ok(ApplyOutcome::Applied(report))
    }
}
