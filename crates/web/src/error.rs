//! One error type for the web layer: each case becomes a calm Dutch page with the right status.
//! Internal details are logged with a reference number, never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use startblok_app::AppError;

use crate::chrome::Chrome;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("niet gevonden")]
    NotFound,
    #[error("geen toegang")]
    Forbidden,
    #[error("niet ingelogd")]
    NotLoggedIn,
    #[error("verzoek van een andere site")]
    CrossSite,
    #[error("formulier verlopen")]
    CsrfMissing,
    #[error("te groot")]
    TooLarge,
    /// A request the app cannot read (a form with a field twice, a body of the wrong kind).
    #[error("onleesbaar verzoek")]
    BadRequest,
    #[error("interne fout: {0}")]
    Internal(String),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<startblok_db::DbError> for WebError {
    fn from(e: startblok_db::DbError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub message: String,
    pub reference: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, heading, message, reference) = match &self {
            WebError::NotLoggedIn => return Redirect::to("/inloggen").into_response(),
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Pagina niet gevonden",
                "Deze pagina bestaat niet, of je hebt er geen toegang toe. Controleer het adres, of ga terug naar de startpagina.".to_string(),
                None,
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Geen toegang",
                "Met je rol op deze school kun je deze pagina niet gebruiken. Denk je dat dit niet klopt? Vraag het de beheerder van je school.".to_string(),
                None,
            ),
            WebError::CrossSite | WebError::CsrfMissing => (
                StatusCode::FORBIDDEN,
                "Formulier verlopen",
                "Dit formulier is verlopen of niet vanuit Startblok verstuurd. Ga terug, laad de pagina opnieuw en probeer het nog een keer.".to_string(),
                None,
            ),
            WebError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Te veel gegevens",
                "Wat je verstuurde is te groot. Probeer het met minder gegevens tegelijk.".to_string(),
                None,
            ),
            WebError::BadRequest => (
                StatusCode::BAD_REQUEST,
                "Formulier niet te lezen",
                "Wat je verstuurde kon Startblok niet lezen. Ga terug, laad de pagina opnieuw en probeer het nog een keer.".to_string(),
                None,
            ),
            WebError::Internal(detail) => {
                let reference = startblok_app::secrets::new_token()[..8].to_uppercase();
                tracing::error!(reference = %reference, error = %detail, "verzoek mislukt");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Er ging iets mis",
                    "Er ging bij ons iets mis. Er is niets verloren gegaan van wat al was opgeslagen. Probeer het zo nog eens; blijft het misgaan, geef dan dit kenmerk door aan de beheerder.".to_string(),
                    Some(reference),
                )
            }
        };
        let page = ErrorPage {
            chrome: Chrome::bare(heading),
            heading,
            message,
            reference,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, heading).into_response(),
        }
    }
}

/// Renders a template, turning a template failure into a 500 page.
pub fn render<T: Template>(t: &T) -> Result<Html<String>, WebError> {
    Ok(Html(t.render()?))
}
