//! The operator's pages: the schools of this instance.

pub mod get;

use askama::Template;

use crate::chrome::Chrome;

#[derive(Template)]
#[template(path = "operator_schools.html")]
pub struct SchoolsPage {
    pub chrome: Chrome,
    pub rows: Vec<SchoolRow>,
}

pub struct SchoolRow {
    pub naam: String,
    pub code: String,
    pub aangemaakt: String,
    /// The operator is also a member here, so the school's pages can be opened.
    pub member: bool,
}
