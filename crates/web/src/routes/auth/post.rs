use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::auth::{LinkError, LoginError};

use super::{LoginPage, WelcomePage, safe_return};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    wachtwoord: String,
    #[serde(default)]
    terug: String,
}

pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Vul je e-mailadres in.");
    }
    if form.wachtwoord.is_empty() {
        errors.add("wachtwoord", "Vul je wachtwoord in.");
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let mut warning = String::new();
    if errors.is_empty() {
        match state.app.login(&form.email, &form.wachtwoord, &ip.0).await {
            Ok(session) => {
                // A login replaces whatever session this browser had.
                if let Some(old) = state.cookies.token(&headers) {
                    let _ = state
                        .app
                        .logout(&old, &startblok_app::Actor::anonymous(ip.0.clone()))
                        .await;
                }
                let to = safe_return(&form.terug).unwrap_or("/").to_string();
                return Ok((
                    StatusCode::SEE_OTHER,
                    [
                        (header::SET_COOKIE, state.cookies.set(&session.token)),
                        (header::LOCATION, to),
                    ],
                )
                    .into_response());
            }
            Err(e @ LoginError::Rejected) => {
                status = StatusCode::UNAUTHORIZED;
                errors.add("email", e.to_string());
            }
            Err(e @ LoginError::Throttled) => {
                status = StatusCode::TOO_MANY_REQUESTS;
                warning = e.to_string();
            }
            Err(LoginError::App(e)) => return Err(e.into()),
        }
    }
    let page = LoginPage {
        chrome: Chrome::bare("Inloggen").with_errors(warning.is_empty()),
        email: form.email,
        terug: safe_return(&form.terug).unwrap_or("").to_string(),
        errors,
        notice: "",
        warning,
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    if let Some(token) = state.cookies.token(&headers) {
        state.app.logout(&token, &user.actor(&ip)).await?;
    }
    Ok((
        [(header::SET_COOKIE, state.cookies.clear())],
        Redirect::to("/inloggen?uitgelogd=1"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    wachtwoord: String,
    #[serde(default)]
    herhaling: String,
}

pub async fn welcome(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    Form(form): Form<WelcomeForm>,
) -> Result<Response, WebError> {
    let Some(user) = state.app.link_user(&token).await? else {
        return super::get::expired_link();
    };
    let mut errors = FormErrors::default();
    if form.wachtwoord.is_empty() {
        errors.add("wachtwoord", "Kies een wachtwoord.");
    } else if let Err(p) = startblok_domain::check_password_policy(&form.wachtwoord) {
        errors.add("wachtwoord", p.to_string());
    } else if form.herhaling != form.wachtwoord {
        errors.add(
            "herhaling",
            "De twee wachtwoorden zijn niet gelijk. Typ hetzelfde wachtwoord nog een keer.",
        );
    }
    if errors.is_empty() {
        match state
            .app
            .complete_link(&token, &form.wachtwoord, &ip.0)
            .await
        {
            Ok(session) => {
                return Ok((
                    StatusCode::SEE_OTHER,
                    [
                        (header::SET_COOKIE, state.cookies.set(&session.token)),
                        (header::LOCATION, "/".to_string()),
                    ],
                )
                    .into_response());
            }
            Err(LinkError::Invalid) => return super::get::expired_link(),
            Err(e @ LinkError::Policy(_)) => errors.add("wachtwoord", e.to_string()),
            Err(LinkError::App(e)) => return Err(e.into()),
        }
    }
    let page = WelcomePage {
        chrome: Chrome::bare("Wachtwoord kiezen").with_errors(true),
        naam: user.naam,
        email: user.email,
        action: format!("/welkom/{token}"),
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// Always the same answer, so nobody learns which addresses have an account.
pub async fn forgot(
    State(state): State<AppState>,
    ip: ClientIp,
    Form(form): Form<ForgotForm>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Vul het e-mailadres van uw account in.");
    } else if let Err(e) = startblok_domain::Email::parse(&form.email) {
        errors.add("email", e.to_string());
    }
    let sent = errors.is_empty();
    if sent {
        state.app.request_password_reset(&form.email, &ip.0).await?;
    }
    let page = super::ForgotPage {
        chrome: Chrome::bare("Wachtwoord vergeten").with_errors(!sent),
        email: form.email,
        errors,
        sent,
    };
    let status = if sent {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}
