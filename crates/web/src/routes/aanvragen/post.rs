use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::aanvragen::{AanvraagError, AanvraagInput};

use super::FormPage;
use crate::AppState;
use crate::access::ClientIp;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize)]
pub struct Sent {
    #[serde(flatten)]
    input: AanvraagInput,
    /// The honeypot: people leave it empty.
    #[serde(default)]
    website: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ip: ClientIp,
    Form(sent): Form<Sent>,
) -> Result<Response, WebError> {
    if !sent.website.trim().is_empty() {
        // A machine filled in the hidden field: answer as if all went well, keep nothing.
        tracing::info!("aanvraag met ingevuld honeypotveld genegeerd");
        return Ok(Redirect::to("/koppeling-aanvragen/ontvangen").into_response());
    }
    match state.app.submit_aanvraag(&sent.input, &ip.0).await {
        Ok(_) => Ok(Redirect::to("/koppeling-aanvragen/ontvangen").into_response()),
        Err(AanvraagError::Invalid(errors)) => {
            let page = FormPage::new(sent.input, errors, String::new());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e @ AanvraagError::TooMany) => {
            let page = FormPage::new(sent.input, FormErrors::default(), e.to_string());
            Ok((StatusCode::TOO_MANY_REQUESTS, render(&page)?).into_response())
        }
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}
