use axum::response::{IntoResponse, Response};
use startblok_app::aanvragen::AanvraagInput;

use super::{FormPage, ReceivedPage};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

pub async fn form() -> Result<Response, WebError> {
    let page = FormPage::new(
        AanvraagInput::default(),
        FormErrors::default(),
        String::new(),
    );
    Ok(render(&page)?.into_response())
}

pub async fn received() -> Result<Response, WebError> {
    let page = ReceivedPage {
        chrome: Chrome::bare("Aanvraag ontvangen"),
    };
    Ok(render(&page)?.into_response())
}
