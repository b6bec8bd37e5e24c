//! A school's own pages: the start page per role and Instellingen.

pub mod get;

use askama::Template;

use crate::chrome::Chrome;

#[derive(Template)]
#[template(path = "school_start.html")]
pub struct StartPage {
    pub chrome: Chrome,
    pub voornaam: String,
    pub school: String,
    pub is_beheerder: bool,
    pub is_leerkracht: bool,
    pub is_ib: bool,
    pub several_schools: bool,
    pub base: String,
    /// The groups this user sees, with their number of (enrolled) pupils: (id, naam, count).
    pub groups: Vec<(String, String, usize)>,
    pub pupils: usize,
    /// For a beheerder: open errors of received results, and when the last delivery came.
    pub boom_fouten: usize,
    pub laatste_levering: Option<String>,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub chrome: Chrome,
    pub base: String,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub school: String,
    pub rows: Vec<UserRow>,
}

pub struct UserRow {
    pub naam: String,
    pub email: String,
    pub roles: String,
    pub status: &'static str,
    pub status_class: &'static str,
}
