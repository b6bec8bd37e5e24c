//! The single-use key link from the e-mail (24 hours): after login as a Beheerder of the school,
//! a button makes the key and shows it once. GET never uses the link (a mail scanner that opens
//! it changes nothing); the POST does.

pub mod get;
pub mod post;

use askama::Template;

use crate::chrome::Chrome;

#[derive(Template)]
#[template(path = "key_link.html")]
pub struct KeyLinkPage {
    pub chrome: Chrome,
    pub school: String,
    pub code: String,
    pub applicatie: String,
    pub action: String,
}

/// The key, shown this once (also after a new key on Instellingen > Boom testcentrum).
#[derive(Template)]
#[template(path = "key_shown.html")]
pub struct KeyShownPage {
    pub chrome: Chrome,
    pub school: String,
    pub applicatie: String,
    pub key: String,
    pub previous_until: Option<String>,
    pub settings: String,
}
