use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::aanvragen::AanvraagError;

use crate::AppState;
use crate::access::{ClientIp, CurrentUser};
use crate::chrome::Chrome;
use crate::error::{WebError, render};

#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    actie: String,
}

/// Processes or rejects a request. A request decided in the meantime shows as it is now.
pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(form): Form<Decision>,
) -> Result<Response, WebError> {
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(WebError::NotFound);
    }
    let actor = user.actor(&ip);
    let result = match form.actie.as_str() {
        "verwerken" => state.app.process_aanvraag(&id, &actor).await.map(|p| {
            if p.mailed {
                "?verwerkt=1"
            } else {
                "?verwerkt=1&mail=mislukt"
            }
        }),
        "opnieuw-sturen" => state.app.resend_key_link(&id, &actor).await.map(|sent| {
            if sent {
                "?opnieuw=1"
            } else {
                "?opnieuw=1&mail=mislukt"
            }
        }),
        "afwijzen" => state.app.reject_aanvraag(&id, &actor).await.map(|_| ""),
        _ => Ok(""),
    };
    match result {
        Ok(q) => Ok(Redirect::to(&format!("/beheer/aanvragen/{id}{q}")).into_response()),
        Err(AanvraagError::AlreadyDecided) => {
            Ok(Redirect::to(&format!("/beheer/aanvragen/{id}")).into_response())
        }
        Err(AanvraagError::NotFound) => Err(WebError::NotFound),
        // Said on the request's page, in Dutch, with what to do.
        Err(AanvraagError::NoBeheerder) => Ok(Redirect::to(&format!(
            "/beheer/aanvragen/{id}?melding=geen-beheerder"
        ))
        .into_response()),
        Err(AanvraagError::Changed) => {
            Ok(Redirect::to(&format!("/beheer/aanvragen/{id}?melding=gewijzigd")).into_response())
        }
        Err(AanvraagError::Stored(reason)) => {
            tracing::warn!(%reason, "aanvraag kan niet worden verwerkt");
            Ok(Redirect::to(&format!("/beheer/aanvragen/{id}?melding=ongeldig")).into_response())
        }
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}

#[derive(Deserialize)]
pub struct ApplicatieForm {
    #[serde(default)]
    klantnaam: String,
    #[serde(default)]
    klantcode: String,
}

pub async fn save_applicatie(
    State(state): State<AppState>,
    user: CurrentUser,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(form): Form<ApplicatieForm>,
) -> Result<Response, WebError> {
    let a = state
        .app
        .applicatie_by_id(&id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .ok_or(WebError::NotFound)?;
    match state
        .app
        .update_applicatie(&id, &form.klantnaam, &form.klantcode, &user.actor(&ip))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
    {
        Ok(()) => Ok(Redirect::to("/beheer/applicaties?opgeslagen=1").into_response()),
        Err(errors) => {
            let page = super::ApplicatiePage {
                chrome: Chrome::for_user(&a.naam, &user, "/beheer/applicaties").with_errors(true),
                id: a.id,
                naam: a.naam,
                klantnaam: form.klantnaam,
                klantcode: form.klantcode,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
