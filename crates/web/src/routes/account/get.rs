use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{PasswordPage, SchoolChoice, SchoolsPage};
use crate::access::CurrentUser;
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize, Default)]
pub struct Changed {
    gewijzigd: Option<String>,
}

pub async fn password_form(
    user: CurrentUser,
    Query(q): Query<Changed>,
) -> Result<Response, WebError> {
    let page = PasswordPage {
        chrome: Chrome::for_user("Wachtwoord wijzigen", &user, "/account/wachtwoord"),
        errors: FormErrors::default(),
        changed: q.gewijzigd.is_some(),
    };
    Ok(render(&page)?.into_response())
}

pub async fn schools(user: CurrentUser) -> Result<Response, WebError> {
    let current = user.0.session.current_school_id;
    let page = SchoolsPage {
        chrome: Chrome::for_user("Wissel van school", &user, "/account/scholen"),
        schools: user
            .0
            .schools
            .iter()
            .map(|(s, roles)| SchoolChoice {
                naam: s.naam.clone(),
                code: s.code.to_string(),
                roles: roles
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                current: Some(s.id) == current,
            })
            .collect(),
    };
    Ok(render(&page)?.into_response())
}
