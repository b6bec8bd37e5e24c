//! Logging in and out, and the one-time links that let a new account choose its password.

pub mod get;
pub mod post;

use askama::Template;

use crate::chrome::Chrome;
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub email: String,
    pub terug: String,
    pub errors: FormErrors,
    pub notice: &'static str,
    /// A refusal that is not about what was typed (too many attempts).
    pub warning: String,
}

#[derive(Template)]
#[template(path = "welcome.html")]
pub struct WelcomePage {
    pub chrome: Chrome,
    pub naam: String,
    pub email: String,
    pub action: String,
    pub errors: FormErrors,
}

/// Only a local path may be a destination after login (no open redirect).
pub fn safe_return(terug: &str) -> Option<&str> {
    let ok = terug.starts_with('/')
        && !terug.starts_with("//")
        && !terug.contains('\\')
        && !terug.starts_with("/inloggen");
    ok.then_some(terug)
}

#[derive(Template)]
#[template(path = "password_forgot.html")]
pub struct ForgotPage {
    pub chrome: Chrome,
    pub email: String,
    pub errors: FormErrors,
    /// The form was sent: say what happens next (the same whether the address is known or not).
    pub sent: bool,
}
