//! Leerlingen: the list, the Leerlingkaart with tab BASIS, adding a pupil by hand, uitschrijven.

pub mod get;
pub mod post;
pub mod results;

use askama::Template;
use startblok_app::pupils::{BasisInput, Card, GESLACHTEN, PupilFilter, PupilList};
use startblok_domain::format_date;

use crate::chrome::Chrome;
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "pupils.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub base: String,
    pub list: PupilList,
    pub filter: PupilFilter,
    pub group_options: Vec<(String, String)>,
    pub can_add: bool,
}

#[derive(Template)]
#[template(path = "pupil_basis.html")]
pub struct BasisPage {
    pub chrome: Chrome,
    pub base: String,
    pub card: Card,
    pub form: BasisInput,
    pub errors: FormErrors,
    pub saved: bool,
    pub fase_form: FaseForm,
    pub options: Options,
    /// A beheerder may mark this pupil as uitgeschreven.
    pub can_leave: bool,
    pub groep_naam: String,
    pub toetsdoel_naam: String,
}

#[derive(Default)]
pub struct FaseForm {
    pub fase: String,
    pub vanaf: String,
}

#[derive(Template)]
#[template(path = "pupil_new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub base: String,
    pub form: BasisInput,
    pub errors: FormErrors,
    pub options: Options,
}

#[derive(Template)]
#[template(path = "pupil_leave.html")]
pub struct LeavePage {
    pub chrome: Chrome,
    pub base: String,
    pub naam: String,
    pub pupil_url: String,
    pub action: String,
    pub datum: String,
    pub errors: FormErrors,
}

/// The choices offered in the pupil forms.
pub struct Options {
    pub groups: Vec<(String, String)>,
    pub toetsdoelen: Vec<(String, String)>,
    pub geslacht: Vec<(String, String)>,
    pub ja_nee: Vec<(String, String)>,
}

impl Options {
    pub fn new(
        groups: &[startblok_db::groups::Group],
        doelen: &[startblok_db::toetsdoelen::Toetsdoel],
        current_doel: Option<&str>,
    ) -> Self {
        let mut g = vec![(String::new(), "Geen groep".to_string())];
        g.extend(
            groups
                .iter()
                .filter(|g| g.actief)
                .map(|g| (g.id.clone(), g.naam.clone())),
        );
        let mut t = vec![(String::new(), "Nog geen toetsdoel".to_string())];
        t.extend(
            doelen
                .iter()
                .filter(|d| d.actief || Some(d.id.as_str()) == current_doel)
                .map(|d| (d.id.clone(), format!("{} – {}", d.code, d.naam))),
        );
        let mut s = vec![(String::new(), "Kies…".to_string())];
        s.extend(
            GESLACHTEN
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        Options {
            groups: g,
            toetsdoelen: t,
            geslacht: s,
            ja_nee: vec![
                (String::new(), "Onbekend".into()),
                ("ja".into(), "Ja".into()),
                ("nee".into(), "Nee".into()),
            ],
        }
    }
}

/// Display helpers for templates.
pub fn date_or_empty<D: std::borrow::Borrow<Option<time::Date>>>(d: D) -> String {
    d.borrow().map(format_date).unwrap_or_default()
}

pub fn fmt_date<D: std::borrow::Borrow<time::Date>>(d: D) -> String {
    format_date(*d.borrow())
}

pub fn geslacht_label(code: &Option<String>) -> String {
    code.as_deref()
        .and_then(|c| GESLACHTEN.iter().find(|(k, _)| *k == c))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The ECK-iD is never shown in full: only its last 6 characters.
pub fn eck_tail(eck: &Option<String>) -> String {
    match eck {
        Some(e) if e.chars().count() > 6 => {
            let tail: String = e
                .chars()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("…{tail}")
        }
        Some(e) => e.clone(),
        None => String::new(),
    }
}

pub fn when<T: std::borrow::Borrow<time::OffsetDateTime>>(t: T) -> String {
    startblok_domain::format_moment(*t.borrow())
}
