use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::pupils::BasisInput;

use super::FaseForm;
use super::get::{basis_page, leave_page, new_page};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::error::{WebError, render};

/// Tab BASIS: save, or show the form again with the input kept and each error at its field.
pub async fn basis(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
    Form(input): Form<BasisInput>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    match state.app.save_basis(&who, &pupil, &input).await? {
        None => Err(WebError::NotFound),
        Some(Ok(())) => Ok(Redirect::to(&format!(
            "/s/{}/leerlingen/{pupil}/basis?opgeslagen=1",
            scope.code()
        ))
        .into_response()),
        Some(Err(errors)) => {
            let card = state
                .app
                .pupil_card(&who, &pupil)
                .await?
                .ok_or(WebError::NotFound)?;
            let page = basis_page(
                &user,
                &scope,
                card,
                input,
                errors,
                false,
                FaseForm::default(),
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FaseInput {
    fase: String,
    fase_vanaf: String,
}

pub async fn add_fase(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
    Form(input): Form<FaseInput>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    match state
        .app
        .add_fase_entry(&who, &pupil, &input.fase, &input.fase_vanaf)
        .await?
    {
        None => Err(WebError::NotFound),
        Some(Ok(())) => Ok(Redirect::to(&format!(
            "/s/{}/leerlingen/{pupil}/basis?opgeslagen=1#fase",
            scope.code()
        ))
        .into_response()),
        Some(Err(errors)) => {
            let card = state
                .app
                .pupil_card(&who, &pupil)
                .await?
                .ok_or(WebError::NotFound)?;
            let form = BasisInput::from_pupil(
                &card.pupil,
                startblok_domain::today_nl(startblok_app::now()),
            );
            let fase = FaseForm {
                fase: input.fase,
                vanaf: input.fase_vanaf,
            };
            let page = basis_page(&user, &scope, card, form, errors, false, fase);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(input): Form<BasisInput>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    match state.app.create_pupil(&who, &input).await? {
        Ok(id) => Ok(Redirect::to(&format!(
            "/s/{}/leerlingen/{id}/basis?opgeslagen=1",
            scope.code()
        ))
        .into_response()),
        Err(errors) => {
            let page = new_page(&state, &user, &scope, input, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LeaveInput {
    datum: String,
}

pub async fn leave(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
    Form(input): Form<LeaveInput>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    match state.app.uitschrijven(&who, &pupil, &input.datum).await? {
        None => Err(WebError::NotFound),
        Some(Ok(())) => Ok(Redirect::to(&format!(
            "/s/{}/leerlingen/{pupil}/basis?opgeslagen=1",
            scope.code()
        ))
        .into_response()),
        Some(Err(errors)) => {
            let card = state
                .app
                .pupil_card(&who, &pupil)
                .await?
                .ok_or(WebError::NotFound)?;
            let page = leave_page(&user, &scope, &card.pupil, input.datum, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
