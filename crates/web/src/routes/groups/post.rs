use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use startblok_app::groups::GroupInput;

use super::get::form_page;
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope};
use crate::error::{WebError, render};

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(input): Form<GroupInput>,
) -> Result<Response, WebError> {
    save(state, user, scope, ip, None, input).await
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, id)): Path<(String, String)>,
    Form(input): Form<GroupInput>,
) -> Result<Response, WebError> {
    save(state, user, scope, ip, Some(id), input).await
}

async fn save(
    state: AppState,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    group: Option<String>,
    input: GroupInput,
) -> Result<Response, WebError> {
    match state
        .app
        .save_group(scope.school.id, group.as_deref(), &input, &user.actor(&ip))
        .await?
    {
        None => Err(WebError::NotFound),
        Some(Ok(_)) => Ok(
            Redirect::to(&format!("/s/{}/groepen?melding=opgeslagen", scope.code()))
                .into_response(),
        ),
        Some(Err(errors)) => {
            let actief = group.is_none() || input.actief.is_some();
            let page = form_page(
                &state,
                &user,
                &scope,
                group.as_deref(),
                input,
                actief,
                errors,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
