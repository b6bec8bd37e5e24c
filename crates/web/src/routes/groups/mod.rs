//! Groepen & Team: groups, their leerkrachten, and the team.

pub mod get;
pub mod post;

use askama::Template;
use startblok_app::groups::{GroupInput, Team};

use crate::chrome::Chrome;
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "groups.html")]
pub struct GroupsPage {
    pub chrome: Chrome,
    pub base: String,
    pub team: Team,
    pub can_edit: bool,
    pub notice: String,
}

#[derive(Template)]
#[template(path = "group_form.html")]
pub struct GroupFormPage {
    pub chrome: Chrome,
    pub base: String,
    /// The form's target: `…/groepen/nieuw` or `…/groepen/{id}`.
    pub action: String,
    pub is_new: bool,
    pub form: GroupInput,
    pub actief: bool,
    pub teachers: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl GroupFormPage {
    pub fn is_linked(&self, id: &str) -> bool {
        self.form.leerkrachten.iter().any(|t| t == id)
    }
}
