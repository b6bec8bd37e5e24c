use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::auth::PasswordChangeError;
use startblok_domain::SchoolCode;

use super::PasswordPage;
use crate::AppState;
use crate::access::{ClientIp, CurrentUser};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    huidig: String,
    #[serde(default)]
    nieuw: String,
    #[serde(default)]
    herhaling: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ip: ClientIp,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    if form.huidig.is_empty() {
        errors.add("huidig", "Vul je huidige wachtwoord in.");
    }
    if form.nieuw.is_empty() {
        errors.add("nieuw", "Kies een nieuw wachtwoord.");
    } else if let Err(p) = startblok_domain::check_password_policy(&form.nieuw) {
        errors.add("nieuw", p.to_string());
    } else if form.herhaling != form.nieuw {
        errors.add(
            "herhaling",
            "De twee nieuwe wachtwoorden zijn niet gelijk. Typ het nieuwe wachtwoord nog een keer.",
        );
    }
    if errors.is_empty() {
        match state
            .app
            .change_password(&user.0, &form.huidig, &form.nieuw, &user.actor(&ip))
            .await
        {
            Ok(token) => {
                return Ok((
                    StatusCode::SEE_OTHER,
                    [
                        (header::SET_COOKIE, state.cookies.set(&token)),
                        (
                            header::LOCATION,
                            "/account/wachtwoord?gewijzigd=1".to_string(),
                        ),
                    ],
                )
                    .into_response());
            }
            Err(e @ PasswordChangeError::WrongCurrent) => errors.add("huidig", e.to_string()),
            Err(e @ (PasswordChangeError::Unchanged | PasswordChangeError::Policy(_))) => {
                errors.add("nieuw", e.to_string())
            }
            Err(PasswordChangeError::App(e)) => return Err(e.into()),
        }
    }
    let page = PasswordPage {
        chrome: Chrome::for_user("Wachtwoord wijzigen", &user, "/account/wachtwoord")
            .with_errors(true),
        errors,
        changed: false,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    school: String,
}

pub async fn switch_school(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SwitchForm>,
) -> Result<Response, WebError> {
    // No school chosen (a form sent without one): back to the choice.
    let Ok(code) = form.school.parse::<SchoolCode>() else {
        return Ok(Redirect::to("/account/scholen").into_response());
    };
    let Some((school, _)) = user.0.schools.iter().find(|(s, _)| s.code == code) else {
        return Err(WebError::NotFound);
    };
    if !state.app.switch_school(&user.0, school.id).await? {
        return Err(WebError::NotFound);
    }
    Ok(Redirect::to(&format!("/s/{code}")).into_response())
}
