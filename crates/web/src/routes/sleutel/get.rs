use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use startblok_app::koppelingen::KeyLinkState;
use startblok_domain::Role;

use super::KeyLinkPage;
use crate::AppState;
use crate::access::CurrentUser;
use crate::chrome::Chrome;
use crate::error::{ErrorPage, WebError, render};

pub async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match state
        .app
        .key_link(&token)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
    {
        KeyLinkState::Ready { school, applicatie } => {
            if !user.0.roles_at(school.id).contains(&Role::Beheerder) {
                return not_yours(&user, &school.naam);
            }
            let page = KeyLinkPage {
                chrome: Chrome::for_user("Autorisatiesleutel ophalen", &user, ""),
                school: school.naam.clone(),
                code: school.code.to_string(),
                applicatie: applicatie.naam.clone(),
                action: format!("/sleutel/{token}"),
            };
            Ok(render(&page)?.into_response())
        }
        KeyLinkState::Revoked => gone(
            "De koppeling is ingetrokken",
            "Na het intrekken van de koppeling werkt deze link niet meer. Wil je de koppeling weer gebruiken? Maak dan een nieuwe sleutel bij Instellingen > Boom testcentrum.",
        ),
        KeyLinkState::Used => gone(
            "Deze link is al gebruikt",
            "De sleutel van deze link is al een keer getoond, en wordt niet opnieuw getoond. Is de sleutel niet ingevuld bij Boom testcentrum? Maak dan een nieuwe sleutel bij Instellingen > Boom testcentrum; de vorige blijft nog 14 dagen werken.",
        ),
        KeyLinkState::Expired => gone(
            "Deze link is verlopen",
            "Een link voor een autorisatiesleutel werkt 24 uur. Maak een nieuwe sleutel bij Instellingen > Boom testcentrum, of vraag de beheerder van Startblok om een nieuwe link.",
        ),
        KeyLinkState::Unknown => gone(
            "Deze link werkt niet",
            "Controleer of je de hele link uit de e-mail hebt gekopieerd. Werkt het dan nog niet? Maak een nieuwe sleutel bij Instellingen > Boom testcentrum.",
        ),
    }
}

pub(super) fn gone(heading: &'static str, message: &str) -> Result<Response, WebError> {
    let page = ErrorPage {
        chrome: Chrome::bare(heading),
        heading,
        message: message.to_string(),
        reference: None,
    };
    Ok((StatusCode::GONE, render(&page)?).into_response())
}

pub(super) fn not_yours(user: &CurrentUser, school: &str) -> Result<Response, WebError> {
    let page = ErrorPage {
        chrome: Chrome::for_user("Niet voor dit account", user, ""),
        heading: "Deze link is niet voor dit account",
        message: format!(
            "Alleen een beheerder van {school} kan deze sleutel ophalen. Je bent ingelogd als {}. Log uit en log in met het account van de beheerder.",
            user.0.user.email
        ),
        reference: None,
    };
    Ok((StatusCode::FORBIDDEN, render(&page)?).into_response())
}
