//! Instellingen: the settings pages of a school (Beheerder).

pub mod boom_file;
pub mod get;
pub mod koppeling;
pub mod levering;
pub mod normen;
pub mod post;
pub mod school_setup;
pub mod toetsen;

use askama::Template;
use startblok_app::pupils::BoomRow;
use startblok_db::toetsdoelen::Toetsdoel;

use crate::chrome::Chrome;
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "boomnummers.html")]
pub struct BoomPage {
    pub chrome: Chrome,
    pub base: String,
    pub rows: Vec<BoomLine>,
    pub errors: FormErrors,
    pub saved: Option<usize>,
    pub missing: usize,
}

pub struct BoomLine {
    pub row: BoomRow,
    /// The value in the input: what is stored, or what the user typed when the save was refused.
    pub value: String,
    pub field: String,
}

#[derive(Template)]
#[template(path = "toetsdoelen.html")]
pub struct ToetsdoelenPage {
    pub chrome: Chrome,
    pub base: String,
    pub doelen: Vec<Toetsdoel>,
    pub code: String,
    pub naam: String,
    pub errors: FormErrors,
    pub notice: String,
}

#[derive(Template)]
#[template(path = "toetsdoel_edit.html")]
pub struct ToetsdoelEditPage {
    pub chrome: Chrome,
    pub base: String,
    pub doel: Toetsdoel,
    pub naam: String,
    pub actief: bool,
    pub errors: FormErrors,
}
