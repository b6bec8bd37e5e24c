use std::collections::HashMap;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use startblok_app::edexml_import::ApplyOutcome;

use super::get::{base, render_view, upload_page};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::error::{WebError, render};
use crate::forms::FormErrors;

pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let file = crate::forms::uploaded_file(&mut multipart).await?;
    let mut errors = FormErrors::default();
    match file {
        Some((name, bytes)) => {
            let who = in_school(&user, &scope, &ip);
            // Parsing a large file takes a moment of CPU: keep it off the async workers.
            let app = state.app.clone();
            let code = scope.school.code.clone();
            let staged =
                tokio::task::spawn(
                    async move { app.stage_import(&who, &code, &name, &bytes).await },
                )
                .await
                .map_err(|e| WebError::Internal(e.to_string()))??;
            match staged {
                Ok(id) => {
                    return Ok(
                        Redirect::to(&format!("{}/importeren/{id}", base(&scope))).into_response()
                    );
                }
                Err(e) => errors.add("bestand", e.to_string()),
            }
        }
        _ => errors.add("bestand", "Kies een bestand."),
    }
    let page = upload_page(&state, &user, &scope, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    actie: String,
    vingerafdruk: String,
    /// File keys of the new pupils that can be matched, in the order of `koppel`.
    sleutel: Vec<String>,
    /// Per `sleutel`: the id of the manually added pupil it is, or empty for a new pupil.
    koppel: Vec<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, import)): Path<(String, String)>,
    Form(input): Form<DecideForm>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let here = format!("{}/importeren/{import}", base(&scope));
    if state
        .app
        .import_view(scope.school.id, &import)
        .await?
        .is_none()
    {
        return Err(WebError::NotFound);
    }
    match input.actie.as_str() {
        "annuleren" => {
            state.app.discard_import(&who, &import).await?;
            return Ok(Redirect::to(&format!("{}/importeren", base(&scope))).into_response());
        }
        "toepassen" => {}
        // Only a deliberate click on Toepassen applies; anything else shows the page again.
        _ => return Ok(Redirect::to(&here).into_response()),
    }
    let matches: HashMap<String, String> = input
        .sleutel
        .into_iter()
        .zip(input.koppel)
        .filter(|(_, m)| !m.is_empty())
        .collect();
    match state
        .app
        .claim_import(scope.school.id, &import, &input.vingerafdruk)
        .await?
    {
        None => Err(WebError::NotFound),
        Some(ApplyOutcome::Stale) => {
            let view = state
                .app
                .import_view(scope.school.id, &import)
                .await?
                .ok_or(WebError::NotFound)?;
            let notice = "Sinds je deze voorvertoning opende, is er iets veranderd (bijvoorbeeld door een andere import of een wijziging met de hand). Hieronder staat wat er nu zou veranderen; controleer het opnieuw.".to_string();
            Ok((
                StatusCode::CONFLICT,
                render_view(&user, &scope, view, notice)?,
            )
                .into_response())
        }
        Some(ApplyOutcome::NotPending) => Ok(Redirect::to(&here).into_response()),
        Some(ApplyOutcome::Applied(_)) => {
            // Claimed: apply in the background; the page shows the progress.
            let app = state.app.clone();
            let fingerprint = input.vingerafdruk.clone();
            let id = import.clone();
            tokio::spawn(async move {
                if let Err(e) = app.apply_import(&who, &id, &fingerprint, &matches).await {
                    tracing::error!(import = %id, error = %e, "import mislukt");
                }
            });
            Ok(Redirect::to(&here).into_response())
        }
    }
}
