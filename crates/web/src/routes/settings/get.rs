use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{BoomLine, BoomPage, ToetsdoelEditPage, ToetsdoelenPage};
use crate::AppState;
use crate::access::{CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedCount {
    opgeslagen: Option<usize>,
    melding: String,
}

pub async fn boom(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<SavedCount>,
) -> Result<Response, WebError> {
    let rows = state.app.boom_table(scope.school.id).await?;
    let lines = rows
        .into_iter()
        .map(|row| BoomLine {
            value: row.pupil.boom_leerlingnummer.clone().unwrap_or_default(),
            field: format!("n_{}", row.pupil.id),
            row,
        })
        .collect();
    Ok(render(&boom_page(
        &user,
        &scope,
        lines,
        FormErrors::default(),
        q.opgeslagen,
    ))?
    .into_response())
}

pub(super) fn boom_page(
    user: &CurrentUser,
    scope: &SchoolScope,
    rows: Vec<BoomLine>,
    errors: FormErrors,
    saved: Option<usize>,
) -> BoomPage {
    let base = format!("/s/{}", scope.code());
    BoomPage {
        chrome: Chrome::for_school(
            "Boom nummers",
            user,
            scope,
            &format!("{base}/instellingen/boomnummers"),
        )
        .with_errors(!errors.is_empty()),
        missing: rows.iter().filter(|r| r.value.trim().is_empty()).count(),
        base,
        rows,
        errors,
        saved,
    }
}

pub async fn toetsdoelen(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<SavedCount>,
) -> Result<Response, WebError> {
    let notice = match q.melding.as_str() {
        "toegevoegd" => "Het toetsdoel is toegevoegd.",
        "gewijzigd" => "Het toetsdoel is gewijzigd.",
        "verwijderd" => "Het toetsdoel is verwijderd.",
        _ => "",
    };
    let page = toetsdoelen_page(
        &state,
        &user,
        &scope,
        String::new(),
        String::new(),
        FormErrors::default(),
        notice,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

pub(super) async fn toetsdoelen_page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    code: String,
    naam: String,
    errors: FormErrors,
    notice: &str,
) -> Result<ToetsdoelenPage, WebError> {
    let base = format!("/s/{}", scope.code());
    Ok(ToetsdoelenPage {
        chrome: Chrome::for_school(
            "Toetsdoelen",
            user,
            scope,
            &format!("{base}/instellingen/toetsdoelen"),
        )
        .with_errors(!errors.is_empty()),
        doelen: state.app.toetsdoelen(scope.school.id).await?,
        base,
        code,
        naam,
        errors,
        notice: notice.to_string(),
    })
}

pub async fn toetsdoel(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let doelen = state.app.toetsdoelen(scope.school.id).await?;
    let doel = doelen
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(WebError::NotFound)?;
    let base = format!("/s/{}", scope.code());
    let page = ToetsdoelEditPage {
        chrome: Chrome::for_school(
            "Toetsdoel wijzigen",
            &user,
            &scope,
            &format!("{base}/instellingen/toetsdoelen/x"),
        ),
        base,
        naam: doel.naam.clone(),
        actief: doel.actief,
        doel,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}
