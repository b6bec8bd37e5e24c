use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{LoginPage, WelcomePage, safe_return};
use crate::AppState;
use crate::access::MaybeUser;
use crate::chrome::Chrome;
use crate::error::{ErrorPage, WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    terug: String,
    #[serde(default)]
    uitgelogd: Option<String>,
}

pub async fn login_form(
    MaybeUser(user): MaybeUser,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if user.is_some() {
        return Ok(Redirect::to(safe_return(&q.terug).unwrap_or("/")).into_response());
    }
    let page = LoginPage {
        chrome: Chrome::bare("Inloggen"),
        email: String::new(),
        terug: safe_return(&q.terug).unwrap_or("").to_string(),
        errors: FormErrors::default(),
        notice: if q.uitgelogd.is_some() {
            "Je bent uitgelogd."
        } else {
            ""
        },
        warning: String::new(),
    };
    Ok(render(&page)?.into_response())
}

pub async fn welcome_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match state.app.link_user(&token).await? {
        Some(user) => {
            let page = WelcomePage {
                chrome: Chrome::bare("Wachtwoord kiezen"),
                naam: user.naam,
                email: user.email,
                action: format!("/welkom/{token}"),
                errors: FormErrors::default(),
            };
            Ok(render(&page)?.into_response())
        }
        None => Ok(expired_link()?),
    }
}

pub(super) fn expired_link() -> Result<Response, WebError> {
    let page = ErrorPage {
        chrome: Chrome::bare("Link verlopen"),
        heading: "Deze link werkt niet meer",
        message: "De link is verlopen of al gebruikt. Vraag de beheerder van je school om een nieuwe uitnodiging. Heb je al een wachtwoord? Log dan gewoon in.".into(),
        reference: None,
    };
    Ok((StatusCode::GONE, render(&page)?).into_response())
}

pub async fn forgot_form() -> Result<Response, WebError> {
    let page = super::ForgotPage {
        chrome: Chrome::bare("Wachtwoord vergeten"),
        email: String::new(),
        errors: FormErrors::default(),
        sent: false,
    };
    Ok(render(&page)?.into_response())
}
