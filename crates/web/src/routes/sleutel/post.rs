use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use startblok_app::Actor;
use startblok_app::koppelingen::{KeyLinkError, KeyLinkState};
use startblok_domain::{Role, format_moment};

use super::KeyShownPage;
use super::get::{gone, not_yours};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser};
use crate::chrome::Chrome;
use crate::error::{WebError, render};

pub async fn redeem(
    State(state): State<AppState>,
    user: CurrentUser,
    ip: ClientIp,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let KeyLinkState::Ready { school, applicatie } = state
        .app
        .key_link(&token)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
    else {
        // The GET says why in Dutch; send the person there.
        return super::get::link(State(state), user, Path(token)).await;
    };
    let beheerder_of: Vec<_> = user
        .0
        .schools
        .iter()
        .filter(|(_, roles)| roles.contains(&Role::Beheerder))
        .map(|(s, _)| s.id)
        .collect();
    let actor = Actor::user(user.0.user.id, &user.0.user.email, ip.0.clone());
    match state
        .app
        .redeem_key_link(&token, &beheerder_of, &actor)
        .await
    {
        Ok(issued) => {
            let page = KeyShownPage {
                chrome: Chrome::for_user("Je nieuwe sleutel", &user, ""),
                school: school.naam.clone(),
                applicatie: applicatie.naam.clone(),
                key: issued.reveal().to_string(),
                previous_until: issued.previous_valid_until.map(format_moment),
                settings: format!("/s/{}/instellingen/boom-testcentrum", school.code),
            };
            Ok(render(&page)?.into_response())
        }
        Err(KeyLinkError::NotYours) => not_yours(&user, &school.naam),
        Err(KeyLinkError::Revoked) => gone(
            "De koppeling is ingetrokken",
            "Na het intrekken van de koppeling werkt deze link niet meer.",
        ),
        Err(KeyLinkError::Used) => gone(
            "Deze link is al gebruikt",
            "De sleutel van deze link is al een keer getoond, en wordt niet opnieuw getoond.",
        ),
        Err(KeyLinkError::Expired) | Err(KeyLinkError::Unknown) => gone(
            "Deze link is verlopen",
            "Maak een nieuwe sleutel bij Instellingen > Boom testcentrum.",
        ),
        Err(KeyLinkError::Koppeling(e)) => Err(WebError::Internal(e.to_string())),
    }
}
