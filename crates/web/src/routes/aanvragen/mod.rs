//! The public order form for the Boom koppeling (step 1 of the manual), without login.
//! Spam-resistant without a third-party service: a honeypot field and a limit per sender.

pub mod get;
pub mod post;

use askama::Template;
use startblok_app::aanvragen::AanvraagInput;

use crate::chrome::Chrome;
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "aanvraag_form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub form: AanvraagInput,
    pub errors: FormErrors,
    pub warning: String,
    pub las_options: Vec<(&'static str, &'static str)>,
}

impl FormPage {
    pub fn new(form: AanvraagInput, errors: FormErrors, warning: String) -> FormPage {
        FormPage {
            chrome: Chrome::bare("Koppeling aanvragen").with_errors(!errors.is_empty()),
            form,
            errors,
            warning,
            las_options: startblok_app::aanvragen::LAS_OPTIONS.to_vec(),
        }
    }
}

#[derive(Template)]
#[template(path = "aanvraag_ontvangen.html")]
pub struct ReceivedPage {
    pub chrome: Chrome,
}
