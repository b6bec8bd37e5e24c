//! Pupils: the list, the Leerlingkaart (tab BASIS), pupils added by hand, uitschrijven, and the
//! Boom-leerlingnummer and toetsdoel with their history.
//!
//! Who sees what (security.md): a beheerder and an ib'er see every pupil of the school; a
//! leerkracht only the pupils of their own groups. Beheerders and leerkrachten (own groups)
//! edit; an ib'er only reads.

use startblok_db::groups::{self, Group};
use startblok_db::pupils::{self, Change, FaseRow, Pupil};
use startblok_db::toetsdoelen::{self, Toetsdoel};
use startblok_db::{Conn, DbError};
use startblok_domain::{
    BoomLeerlingnummer, FaseEntry, Role, SchoolId, fase_on, parse_date, parse_past_date, today_nl,
};
use time::Date;
use unicode_normalization::UnicodeNormalization;

use crate::forms::FormErrors;
use crate::toetsdoelen::uuid_v7;
use crate::{Actor, App, AppError, audit, now};

/// A user acting within one school, with their roles there.
#[derive(Debug, Clone)]
pub struct InSchool {
    pub school: SchoolId,
    pub actor: Actor,
    pub roles: Vec<Role>,
}

impl InSchool {
    pub(crate) fn sees_all(&self) -> bool {
        self.roles.contains(&Role::Beheerder) || self.roles.contains(&Role::Ib)
    }
    pub(crate) fn is_beheerder(&self) -> bool {
        self.roles.contains(&Role::Beheerder)
    }
}

/// Which pupils a user may see, and which they may change.
#[derive(Debug, Clone)]
pub struct Reach {
    sees_all: bool,
    edits_all: bool,
    own_groups: Vec<String>,
}

impl Reach {
    pub fn sees(&self, p: &Pupil) -> bool {
        self.sees_all
            || p.group_id
                .as_ref()
                .is_some_and(|g| self.own_groups.contains(g))
    }
    pub fn owns_group(&self, group: &str) -> bool {
        self.own_groups.iter().any(|g| g == group)
    }
    pub fn edits(&self, p: &Pupil) -> bool {
        self.edits_all
            || p.group_id
                .as_ref()
                .is_some_and(|g| self.own_groups.contains(g))
    }
}

#[derive(Debug, Clone, Default)]
pub struct PupilFilter {
    /// A group id; empty for all groups.
    pub groep: String,
    pub zonder_boom: bool,
    pub zonder_toetsdoel: bool,
    pub zoek: String,
    pub uitgeschreven: bool,
}

#[derive(Debug, Clone)]
pub struct PupilRow {
    pub pupil: Pupil,
    pub groep: String,
    pub toetsdoel: String,
}

#[derive(Debug, Clone)]
pub struct PupilList {
    pub rows: Vec<PupilRow>,
    /// Groups the user can filter on.
    pub groups: Vec<Group>,
    pub total_visible: usize,
}

/// Everything tab BASIS shows.
#[derive(Debug, Clone)]
pub struct Card {
    pub pupil: Pupil,
    pub groep: Option<Group>,
    pub groups: Vec<Group>,
    pub toetsdoelen: Vec<Toetsdoel>,
    pub toetsdoel: Option<Toetsdoel>,
    pub boom_history: Vec<Change>,
    pub toetsdoel_history: Vec<Change>,
    pub fase_entries: Vec<FaseRow>,
    pub fase_today: Option<u8>,
    pub can_edit: bool,
    pub can_edit_identity: bool,
    pub can_change_group: bool,
}

/// What the BASIS form sends, as typed. Field names are the form's field ids.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct BasisInput {
    pub achternaam: String,
    pub voorvoegsel: String,
    pub voornamen: String,
    pub roepnaam: String,
    pub geboortedatum: String,
    pub geslacht: String,
    pub groep: String,
    pub jaargroep: String,
    pub instroomdatum: String,
    pub uitstroomdatum: String,
    pub aankomst_nl: String,
    pub aankomst_bron: String,
    pub start_nieuwkomers: String,
    pub thuistalen: String,
    pub land_herkomst: String,
    pub jaren_onderwijs: String,
    pub gealfabetiseerd: String,
    pub leerroute: String,
    pub uitstroomprofiel: String,
    pub verwachte_uitstroom: String,
    pub boom_leerlingnummer: String,
    pub toetsdoel: String,
    pub toetsdoel_vanaf: String,
}

impl BasisInput {
    /// The form filled in with what is stored.
    pub fn from_pupil(p: &Pupil, today: Date) -> Self {
        let d = |d: Option<Date>| d.map(startblok_domain::format_date).unwrap_or_default();
        let s = |s: &Option<String>| s.clone().unwrap_or_default();
        BasisInput {
            achternaam: p.achternaam.clone(),
            voorvoegsel: s(&p.voorvoegsel),
            voornamen: s(&p.voornamen),
            roepnaam: s(&p.roepnaam),
            geboortedatum: d(p.geboortedatum),
            geslacht: s(&p.geslacht),
            groep: s(&p.group_id),
            jaargroep: s(&p.jaargroep),
            instroomdatum: d(p.instroomdatum),
            uitstroomdatum: d(p.uitstroomdatum),
            aankomst_nl: d(p.aankomst_nl),
            aankomst_bron: s(&p.aankomst_bron),
            start_nieuwkomers: d(p.start_nieuwkomers),
            thuistalen: s(&p.thuistalen),
            land_herkomst: s(&p.land_herkomst),
            jaren_onderwijs: p.jaren_onderwijs.map(|n| n.to_string()).unwrap_or_default(),
            gealfabetiseerd: match p.gealfabetiseerd_latijns {
                Some(true) => "ja".into(),
                Some(false) => "nee".into(),
                None => String::new(),
            },
            leerroute: s(&p.leerroute),
            uitstroomprofiel: s(&p.uitstroomprofiel),
            verwachte_uitstroom: s(&p.verwachte_uitstroom),
            boom_leerlingnummer: s(&p.boom_leerlingnummer),
            toetsdoel: s(&p.toetsdoel_id),
            toetsdoel_vanaf: startblok_domain::format_date(today),
        }
    }
}

/// Trimmed, NFC, invisible characters removed, inner runs of white space folded; `None` when empty.
fn text_field(s: &str) -> Option<String> {
    startblok_domain::clean_text(s)
}

/// The label of a field, so that a message in the error summary says which field it is about.
fn label(field: &str) -> &'static str {
    match field {
        "achternaam" => "Achternaam",
        "voorvoegsel" => "Voorvoegsel",
        "voornamen" => "Voornamen",
        "roepnaam" => "Roepnaam",
        "jaargroep" => "Jaargroep",
        "instroomdatum" => "Instroomdatum",
        "uitstroomdatum" => "Uitstroomdatum",
        "start_nieuwkomers" => "Start nieuwkomersonderwijs",
        "toetsdoel_vanaf" => "Toetsdoel geldt vanaf",
        "fase_vanaf" => "Fase geldt vanaf",
        "aankomst_bron" => "Bron van de aankomstdatum",
        "thuistalen" => "Thuistaal",
        "leerroute" => "Leerroute",
        "uitstroomprofiel" => "Uitstroomprofiel",
        "verwachte_uitstroom" => "Verwachte uitstroom",
        _ => "Dit veld",
    }
}

fn check_len(errors: &mut FormErrors, field: &'static str, v: &Option<String>, max: usize) {
    if let Some(v) = v
        && (v.chars().count() > max || v.chars().any(char::is_control))
    {
        errors.add(
            field,
            format!("{} mag hoogstens {max} tekens lang zijn.", label(field)),
        );
    }
}

pub const GESLACHTEN: [(&str, &str); 4] = [
    ("1", "Jongen"),
    ("2", "Meisje"),
    ("9", "Anders of niet opgegeven"),
    ("0", "Onbekend"),
];

impl App {
    pub(crate) async fn reach(&self, conn: &mut Conn, who: &InSchool) -> Result<Reach, AppError> {
        let own_groups = match who.actor.user_id {
            Some(u) if who.roles.contains(&Role::Leerkracht) => {
                groups::groups_of_teacher(conn, who.school, u).await?
            }
            _ => Vec::new(),
        };
        Ok(Reach {
            sees_all: who.sees_all(),
            edits_all: who.is_beheerder(),
            own_groups,
        })
    }

    /// Leerlingen: the pupils this user may see, filtered and sorted by groep and name.
    pub async fn pupil_list(
        &self,
        who: &InSchool,
        filter: &PupilFilter,
    ) -> Result<PupilList, AppError> {
        let mut c = self.db.conn().await?;
        let reach = self.reach(&mut c, who).await?;
        let all_groups = groups::list(&mut c, who.school).await?;
        let doelen = toetsdoelen::list(&mut c, who.school).await?;
        let all = pupils::list(&mut c, who.school).await?;
        let visible: Vec<Pupil> = all.into_iter().filter(|p| reach.sees(p)).collect();
        let total_visible = visible
            .iter()
            .filter(|p| p.uitgeschreven_op.is_none())
            .count();
        let zoek: String = filter.zoek.nfc().collect::<String>().trim().to_lowercase();
        let group_name = |id: &Option<String>| {
            id.as_ref()
                .and_then(|g| all_groups.iter().find(|x| &x.id == g))
                .map(|g| g.naam.clone())
                .unwrap_or_default()
        };
        let mut rows: Vec<PupilRow> = visible
            .into_iter()
            .filter(|p| filter.uitgeschreven == p.uitgeschreven_op.is_some())
            .filter(|p| {
                filter.groep.is_empty() || p.group_id.as_deref() == Some(filter.groep.as_str())
            })
            .filter(|p| !filter.zonder_boom || p.boom_leerlingnummer.is_none())
            .filter(|p| !filter.zonder_toetsdoel || p.toetsdoel_id.is_none())
            .filter(|p| {
                zoek.is_empty()
                    || p.display_name().to_lowercase().contains(&zoek)
                    || p.sort_name().to_lowercase().contains(&zoek)
            })
            .map(|p| PupilRow {
                groep: group_name(&p.group_id),
                toetsdoel: p
                    .toetsdoel_id
                    .as_ref()
                    .and_then(|t| doelen.iter().find(|d| &d.id == t))
                    .map(|d| d.naam.clone())
                    .unwrap_or_default(),
                pupil: p,
            })
            .collect();
        rows.sort_by(|a, b| {
            (
                a.groep.is_empty(),
                a.groep.to_lowercase(),
                a.pupil.sort_name().to_lowercase(),
            )
                .cmp(&(
                    b.groep.is_empty(),
                    b.groep.to_lowercase(),
                    b.pupil.sort_name().to_lowercase(),
                ))
        });
        let groups = if reach.sees_all {
            all_groups
        } else {
            all_groups
                .into_iter()
                .filter(|g| reach.own_groups.contains(&g.id))
                .collect()
        };
        Ok(PupilList {
            rows,
            groups,
            total_visible,
        })
    }

    /// The Leerlingkaart, if this user may see the pupil (else `None`: the page answers 404).
    /// Viewing is recorded in the audit log.
    pub async fn pupil_card(&self, who: &InSchool, pupil: &str) -> Result<Option<Card>, AppError> {
        let mut c = self.db.conn().await?;
        let reach = self.reach(&mut c, who).await?;
        let Some(p) = pupils::get(&mut c, who.school, pupil)
            .await?
            .filter(|p| reach.sees(p))
        else {
            return Ok(None);
        };
        let all_groups = groups::list(&mut c, who.school).await?;
        let doelen = toetsdoelen::list(&mut c, who.school).await?;
        let fase_entries = pupils::fase_entries(&mut c, who.school, &p.id).await?;
        let entries: Vec<FaseEntry> = fase_entries
            .iter()
            .map(|e| FaseEntry {
                from: e.vanaf,
                fase: e.fase.clamp(1, 255) as u8,
            })
            .collect();
        let start = p.start_nieuwkomers.or(p.instroomdatum);
        let bands = crate::school_setup::fase_bands(&mut c, who.school).await?;
        let fase_today = fase_on(start, &entries, &bands, today_nl(now()));
        let card = Card {
            groep: p
                .group_id
                .as_ref()
                .and_then(|g| all_groups.iter().find(|x| &x.id == g))
                .cloned(),
            toetsdoel: p
                .toetsdoel_id
                .as_ref()
                .and_then(|t| doelen.iter().find(|d| &d.id == t))
                .cloned(),
            boom_history: pupils::boom_history(&mut c, who.school, &p.id).await?,
            toetsdoel_history: pupils::toetsdoel_history(&mut c, who.school, &p.id).await?,
            fase_entries,
            fase_today,
            can_edit: reach.edits(&p) && p.uitgeschreven_op.is_none(),
            can_edit_identity: reach.edits(&p) && !p.imported,
            can_change_group: who.is_beheerder() && !p.imported,
            groups: all_groups,
            toetsdoelen: doelen,
            pupil: p,
        };
        audit(
            &mut c,
            &who.actor,
            "leerling.bekeken",
            Some(("leerling", card.pupil.id.clone())),
            Some(who.school),
        )
        .await?;
        Ok(Some(card))
    }

    /// Whether this user may see this pupil (without recording a view).
    pub async fn pupil_visible(&self, who: &InSchool, pupil: &str) -> Result<bool, AppError> {
        let mut c = self.db.conn().await?;
        let reach = self.reach(&mut c, who).await?;
        Ok(pupils::get(&mut c, who.school, pupil)
            .await?
            .is_some_and(|p| reach.sees(&p)))
    }

    /// Saves tab BASIS. `Ok(None)`: no such pupil for this user. `Ok(Some(Err(errors)))`: nothing
    /// was saved, each error belongs to a field.
    pub async fn save_basis(
        &self,
        who: &InSchool,
        pupil: &str,
        input: &BasisInput,
    ) -> Result<Option<Result<(), FormErrors>>, AppError> {
        let mut tx = self.db.begin().await?;
        let reach = self.reach(&mut tx, who).await?;
        let Some(current) = pupils::get(&mut tx, who.school, pupil)
            .await?
            .filter(|p| reach.sees(p))
        else {
            return Ok(None);
        };
        if !reach.edits(&current) {
            return Ok(None);
        }
        let today = today_nl(now());
        let mut errors = FormErrors::default();
        let mut next = current.clone();
        if !current.imported {
            self.apply_identity(&mut tx, who, input, &mut next, today, &mut errors)
                .await?;
        }
        apply_owned(input, &mut next, today, &mut errors);
        let boom = self
            .check_boom(
                &mut tx,
                who.school,
                &current.id,
                &input.boom_leerlingnummer,
                &mut errors,
            )
            .await?;
        let doelen = toetsdoelen::list(&mut tx, who.school).await?;
        let toetsdoel = text_field(&input.toetsdoel);
        if let Some(t) = &toetsdoel
            && !doelen
                .iter()
                .any(|d| &d.id == t && (d.actief || current.toetsdoel_id.as_ref() == Some(t)))
        {
            errors.add("toetsdoel", "Kies een toetsdoel uit de lijst.");
        }
        let vanaf = match startblok_domain::parse_school_date(&input.toetsdoel_vanaf, today) {
            Ok(Some(d)) => d,
            Ok(None) => today,
            Err(e) => {
                if toetsdoel != current.toetsdoel_id {
                    errors.add(
                        "toetsdoel_vanaf",
                        format!("{}: {e}", label("toetsdoel_vanaf")),
                    );
                }
                today
            }
        };
        if !errors.is_empty() {
            return Ok(Some(Err(errors)));
        }
        let t = now();
        let by = who.actor.label.clone();
        pupils::update(
            &mut tx,
            who.school,
            &Pupil {
                boom_leerlingnummer: current.boom_leerlingnummer.clone(),
                toetsdoel_id: current.toetsdoel_id.clone(),
                ..next
            },
            t,
        )
        .await?;
        if boom != current.boom_leerlingnummer {
            pupils::set_boom(&mut tx, who.school, &current.id, boom.as_deref(), &by, t).await?;
            audit(
                &mut tx,
                &who.actor,
                "leerling.boomnummer",
                Some(("leerling", current.id.clone())),
                Some(who.school),
            )
            .await?;
        }
        if toetsdoel != current.toetsdoel_id {
            pupils::set_toetsdoel(
                &mut tx,
                who.school,
                &current.id,
                toetsdoel.as_deref(),
                vanaf,
                &by,
                t,
            )
            .await?;
            audit(
                &mut tx,
                &who.actor,
                "leerling.toetsdoel",
                Some(("leerling", current.id.clone())),
                Some(who.school),
            )
            .await?;
        }
        audit(
            &mut tx,
            &who.actor,
            "leerling.gewijzigd",
            Some(("leerling", current.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        // A new toetsdoel or start date changes how this pupil's results are judged.
        self.reprocess_after_change(who.school, Some(&current.id))
            .await;
        Ok(Some(Ok(())))
    }

    async fn apply_identity(
        &self,
        conn: &mut Conn,
        who: &InSchool,
        input: &BasisInput,
        next: &mut Pupil,
        today: Date,
        errors: &mut FormErrors,
    ) -> Result<(), AppError> {
        match text_field(&input.achternaam) {
            Some(a) => next.achternaam = a,
            None => errors.add("achternaam", "Vul de achternaam in."),
        }
        next.voorvoegsel = text_field(&input.voorvoegsel);
        next.voornamen = text_field(&input.voornamen);
        next.roepnaam = text_field(&input.roepnaam);
        for (field, v, max) in [
            ("achternaam", &Some(next.achternaam.clone()), 200),
            ("voorvoegsel", &next.voorvoegsel, 20),
            ("voornamen", &next.voornamen, 200),
            ("roepnaam", &next.roepnaam, 100),
        ] {
            check_len(errors, field, v, max);
        }
        match startblok_domain::parse_birth_date(&input.geboortedatum, today) {
            Ok(d) => next.geboortedatum = d,
            Err(e) => errors.add("geboortedatum", format!("Geboortedatum: {e}")),
        }
        let g = input.geslacht.trim();
        if g.is_empty() || GESLACHTEN.iter().any(|(k, _)| *k == g) {
            next.geslacht = text_field(g);
        } else {
            errors.add("geslacht", "Kies een geslacht uit de lijst.");
        }
        next.jaargroep = text_field(&input.jaargroep);
        check_len(errors, "jaargroep", &next.jaargroep, 10);
        for (field, value, slot) in [
            (
                "instroomdatum",
                &input.instroomdatum,
                &mut next.instroomdatum,
            ),
            (
                "uitstroomdatum",
                &input.uitstroomdatum,
                &mut next.uitstroomdatum,
            ),
        ] {
            match startblok_domain::parse_school_date(value, today) {
                Ok(d) => *slot = d,
                Err(e) => errors.add(field, format!("{}: {e}", label(field))),
            }
        }
        if let (Some(i), Some(u)) = (next.instroomdatum, next.uitstroomdatum)
            && u < i
        {
            errors.add(
                "uitstroomdatum",
                "Uitstroomdatum: deze ligt vóór de instroomdatum.",
            );
        }
        if who.is_beheerder() {
            let g = text_field(&input.groep);
            match &g {
                Some(id) if groups::get(conn, who.school, id).await?.is_none() => {
                    errors.add("groep", "Kies een groep uit de lijst.")
                }
                _ => next.group_id = g,
            }
        }
        Ok(())
    }

    /// Validates a Boom-leerlingnummer for one pupil: its form, and that no other active pupil of
    /// the school has it. Returns the parsed value (`None` = cleared).
    async fn check_boom(
        &self,
        conn: &mut Conn,
        school: SchoolId,
        pupil: &str,
        input: &str,
        errors: &mut FormErrors,
    ) -> Result<Option<String>, AppError> {
        match BoomLeerlingnummer::parse(input) {
            Err(e) => {
                errors.add("boom_leerlingnummer", e.to_string());
                Ok(None)
            }
            Ok(None) => Ok(None),
            Ok(Some(n)) => {
                if let Some(other) = pupils::active_by_boom(conn, school, n.as_str()).await?
                    && other.id != pupil
                {
                    errors.add(
                        "boom_leerlingnummer",
                        format!("Boom-leerlingnummer {} hoort al bij {}. Elk nummer mag maar bij één leerling horen.", n.as_str(), other.display_name()),
                    );
                }
                Ok(Some(n.as_str().to_string()))
            }
        }
    }

    /// Adds a pupil by hand (before the LAS export has them). Returns the new pupil's id.
    pub async fn create_pupil(
        &self,
        who: &InSchool,
        input: &BasisInput,
    ) -> Result<Result<String, FormErrors>, AppError> {
        if !who.is_beheerder() {
            let mut e = FormErrors::default();
            e.add(
                "achternaam",
                "Alleen een beheerder kan leerlingen toevoegen.",
            );
            return Ok(Err(e));
        }
        let mut tx = self.db.begin().await?;
        let today = today_nl(now());
        let mut errors = FormErrors::default();
        let mut p = Pupil {
            id: uuid_v7(),
            ..Pupil::default()
        };
        self.apply_identity(&mut tx, who, input, &mut p, today, &mut errors)
            .await?;
        apply_owned(input, &mut p, today, &mut errors);
        let boom = self
            .check_boom(
                &mut tx,
                who.school,
                &p.id,
                &input.boom_leerlingnummer,
                &mut errors,
            )
            .await?;
        let toetsdoel = text_field(&input.toetsdoel);
        if let Some(t) = &toetsdoel
            && !toetsdoelen::list(&mut tx, who.school)
                .await?
                .iter()
                .any(|d| &d.id == t && d.actief)
        {
            errors.add("toetsdoel", "Kies een toetsdoel uit de lijst.");
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let t = now();
        pupils::insert(&mut tx, who.school, &p, t).await?;
        if boom.is_some() {
            pupils::set_boom(
                &mut tx,
                who.school,
                &p.id,
                boom.as_deref(),
                &who.actor.label,
                t,
            )
            .await?;
        }
        if toetsdoel.is_some() {
            pupils::set_toetsdoel(
                &mut tx,
                who.school,
                &p.id,
                toetsdoel.as_deref(),
                today,
                &who.actor.label,
                t,
            )
            .await?;
        }
        audit(
            &mut tx,
            &who.actor,
            "leerling.toegevoegd",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(p.id))
    }

    /// Marks a pupil as uitgeschreven (left) from a date; the pupil is kept, never deleted here.
    pub async fn uitschrijven(
        &self,
        who: &InSchool,
        pupil: &str,
        datum: &str,
    ) -> Result<Option<Result<(), FormErrors>>, AppError> {
        if !who.is_beheerder() {
            return Ok(None);
        }
        let mut tx = self.db.begin().await?;
        let Some(mut p) = pupils::get(&mut tx, who.school, pupil).await? else {
            return Ok(None);
        };
        let mut errors = FormErrors::default();
        let date = match parse_date(datum) {
            Ok(Some(d)) => d,
            Ok(None) => today_nl(now()),
            Err(e) => {
                errors.add("datum", e.to_string());
                return Ok(Some(Err(errors)));
            }
        };
        p.uitgeschreven_op = Some(date);
        if p.uitstroomdatum.is_none() {
            p.uitstroomdatum = Some(date);
        }
        pupils::update(&mut tx, who.school, &p, now()).await?;
        audit(
            &mut tx,
            &who.actor,
            "leerling.uitgeschreven",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(Ok(())))
    }

    /// Adds an explicit fase entry ("vanaf DATUM: fase N").
    pub async fn add_fase_entry(
        &self,
        who: &InSchool,
        pupil: &str,
        fase: &str,
        vanaf: &str,
    ) -> Result<Option<Result<(), FormErrors>>, AppError> {
        let mut tx = self.db.begin().await?;
        let reach = self.reach(&mut tx, who).await?;
        let Some(p) = pupils::get(&mut tx, who.school, pupil)
            .await?
            .filter(|p| reach.edits(p))
        else {
            return Ok(None);
        };
        let mut errors = FormErrors::default();
        let fase: Option<i64> = fase.trim().parse().ok().filter(|f| (1..=9).contains(f));
        if fase.is_none() {
            errors.add("fase", "Kies een fase van 1 tot en met 9.");
        }
        let vanaf = match startblok_domain::parse_school_date(vanaf, today_nl(now())) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                errors.add(
                    "fase_vanaf",
                    "Vul de datum in vanaf wanneer deze fase geldt.",
                );
                None
            }
            Err(e) => {
                errors.add("fase_vanaf", format!("{}: {e}", label("fase_vanaf")));
                None
            }
        };
        let (Some(fase), Some(vanaf)) = (fase, vanaf) else {
            return Ok(Some(Err(errors)));
        };
        pupils::add_fase_entry(
            &mut tx,
            who.school,
            &p.id,
            fase,
            vanaf,
            &who.actor.label,
            now(),
        )
        .await?;
        audit(
            &mut tx,
            &who.actor,
            "leerling.fase",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        self.reprocess_after_change(who.school, Some(&p.id)).await;
        Ok(Some(Ok(())))
    }
}

/// The fields Startblok owns, which every editor may change (also for imported pupils).
fn apply_owned(input: &BasisInput, next: &mut Pupil, today: Date, errors: &mut FormErrors) {
    match parse_past_date(&input.aankomst_nl, today) {
        Ok(d) => next.aankomst_nl = d,
        Err(e) => errors.add("aankomst_nl", format!("Datum aankomst: {e}")),
    }
    match startblok_domain::parse_school_date(&input.start_nieuwkomers, today) {
        Ok(d) => next.start_nieuwkomers = d,
        Err(e) => errors.add(
            "start_nieuwkomers",
            format!("{}: {e}", label("start_nieuwkomers")),
        ),
    }
    if let (Some(a), Some(b)) = (next.aankomst_nl, next.geboortedatum)
        && a < b
    {
        errors.add(
            "aankomst_nl",
            "Datum aankomst: deze ligt vóór de geboortedatum.",
        );
    }
    next.aankomst_bron = text_field(&input.aankomst_bron);
    next.thuistalen = text_field(&input.thuistalen);
    next.leerroute = text_field(&input.leerroute);
    next.uitstroomprofiel = text_field(&input.uitstroomprofiel);
    next.verwachte_uitstroom = text_field(&input.verwachte_uitstroom);
    for (field, v, max) in [
        ("aankomst_bron", &next.aankomst_bron, 200),
        ("thuistalen", &next.thuistalen, 200),
        ("leerroute", &next.leerroute, 200),
        ("uitstroomprofiel", &next.uitstroomprofiel, 200),
        ("verwachte_uitstroom", &next.verwachte_uitstroom, 200),
    ] {
        check_len(errors, field, v, max);
    }
    let land = input.land_herkomst.trim().to_uppercase();
    if land.is_empty() {
        next.land_herkomst = None;
    } else if land.len() == 2 && land.bytes().all(|b| b.is_ascii_uppercase()) {
        next.land_herkomst = Some(land);
    } else {
        errors.add(
            "land_herkomst",
            "Vul de landcode in met twee letters, bijvoorbeeld SY voor Syrië.",
        );
    }
    let jaren = input.jaren_onderwijs.trim();
    if jaren.is_empty() {
        next.jaren_onderwijs = None;
    } else {
        match jaren.parse::<i64>() {
            Ok(n) if (0..=20).contains(&n) => next.jaren_onderwijs = Some(n),
            _ => errors.add(
                "jaren_onderwijs",
                "Vul een aantal jaren in van 0 tot en met 20.",
            ),
        }
    }
    next.gealfabetiseerd_latijns = match input.gealfabetiseerd.trim() {
        "ja" => Some(true),
        "nee" => Some(false),
        _ => None,
    };
}

/// One row of Instellingen > Boom nummers.
#[derive(Debug, Clone)]
pub struct BoomRow {
    pub pupil: Pupil,
    pub groep: String,
}

impl App {
    /// All active pupils with their current Boom-leerlingnummer, by groep and name.
    pub async fn boom_table(&self, school: SchoolId) -> Result<Vec<BoomRow>, AppError> {
        let mut c = self.db.conn().await?;
        let all_groups = groups::list(&mut c, school).await?;
        let mut rows: Vec<BoomRow> = pupils::list(&mut c, school)
            .await?
            .into_iter()
            .filter(|p| p.uitgeschreven_op.is_none())
            .map(|p| BoomRow {
                groep: p
                    .group_id
                    .as_ref()
                    .and_then(|g| all_groups.iter().find(|x| &x.id == g))
                    .map(|g| g.naam.clone())
                    .unwrap_or_default(),
                pupil: p,
            })
            .collect();
        rows.sort_by_key(|r| {
            (
                r.groep.is_empty(),
                r.groep.to_lowercase(),
                r.pupil.sort_name().to_lowercase(),
            )
        });
        Ok(rows)
    }

    /// Saves Boom-leerlingnummers for many pupils at once: all rows or none. On refusal, each
    /// wrong row's pupil id comes back with its message. Returns how many numbers changed.
    pub async fn save_boom_bulk(
        &self,
        who: &InSchool,
        entries: &[(String, String)],
    ) -> Result<Result<usize, Vec<(String, String)>>, AppError> {
        let mut tx = self.db.begin().await?;
        let all = pupils::list(&mut tx, who.school).await?;
        let active: Vec<&Pupil> = all
            .iter()
            .filter(|p| p.uitgeschreven_op.is_none())
            .collect();
        let mut errors: Vec<(String, String)> = Vec::new();
        let mut parsed: Vec<(&Pupil, Option<String>)> = Vec::new();
        for (id, value) in entries {
            let Some(p) = active.iter().find(|p| &p.id == id) else {
                errors.push((
                    id.clone(),
                    "Deze leerling bestaat niet (meer) op deze school.".into(),
                ));
                continue;
            };
            match BoomLeerlingnummer::parse(value) {
                Ok(n) => parsed.push((p, n.map(|n| n.as_str().to_string()))),
                Err(e) => errors.push((id.clone(), e.to_string())),
            }
        }
        // Duplicates within the table, and against active pupils the table did not send.
        for (p, n) in &parsed {
            let Some(n) = n else { continue };
            let same: Vec<&&Pupil> = parsed
                .iter()
                .filter(|(q, m)| q.id != p.id && m.as_ref() == Some(n))
                .map(|(q, _)| q)
                .collect();
            if let Some(other) = same.first() {
                errors.push((
                    p.id.clone(),
                    format!("Nummer {n} staat ook bij {}.", other.display_name()),
                ));
                continue;
            }
            if let Some(other) = active.iter().find(|q| {
                q.id != p.id
                    && q.boom_leerlingnummer.as_ref() == Some(n)
                    && !parsed.iter().any(|(r, _)| r.id == q.id)
            }) {
                errors.push((
                    p.id.clone(),
                    format!("Nummer {n} hoort al bij {}.", other.display_name()),
                ));
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let t = now();
        let changed: Vec<&(&Pupil, Option<String>)> = parsed
            .iter()
            .filter(|(p, n)| &p.boom_leerlingnummer != n)
            .collect();
        // Clear first, then set: swapping two pupils' numbers never trips the unique index.
        for (p, _) in &changed {
            pupils::release_boom(&mut tx, who.school, &p.id).await?;
        }
        for (p, n) in &changed {
            pupils::set_boom(
                &mut tx,
                who.school,
                &p.id,
                n.as_deref(),
                &who.actor.label,
                t,
            )
            .await?;
            audit(
                &mut tx,
                &who.actor,
                "leerling.boomnummer",
                Some(("leerling", p.id.clone())),
                Some(who.school),
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(changed.len()))
    }
}
