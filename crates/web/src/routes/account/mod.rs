//! The user's own account: change password, switch school.

pub mod get;
pub mod post;

use askama::Template;

use crate::chrome::Chrome;
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub errors: FormErrors,
    pub changed: bool,
}

#[derive(Template)]
#[template(path = "schools.html")]
pub struct SchoolsPage {
    pub chrome: Chrome,
    pub schools: Vec<SchoolChoice>,
}

pub struct SchoolChoice {
    pub naam: String,
    pub code: String,
    pub roles: String,
    pub current: bool,
}
