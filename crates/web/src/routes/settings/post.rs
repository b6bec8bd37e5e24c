use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::get::{boom_page, toetsdoelen_page};
use super::{BoomLine, ToetsdoelEditPage};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

/// Saves the whole Boom nummers table at once; one wrong row refuses all and keeps every value.
pub async fn boom(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let entries: Vec<(String, String)> = fields
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("n_").map(|id| (id.to_string(), v)))
        .collect();
    let who = in_school(&user, &scope, &ip);
    match state.app.save_boom_bulk(&who, &entries).await? {
        Ok(changed) => Ok(Redirect::to(&format!(
            "/s/{}/instellingen/boomnummers?opgeslagen={changed}",
            scope.code()
        ))
        .into_response()),
        Err(row_errors) => {
            let rows = state.app.boom_table(scope.school.id).await?;
            let mut errors = FormErrors::default();
            // In table order, so the summary reads top to bottom.
            for r in &rows {
                if let Some((_, msg)) = row_errors.iter().find(|(id, _)| *id == r.pupil.id) {
                    errors.add(
                        format!("n_{}", r.pupil.id),
                        format!("{}: {msg}", r.pupil.display_name()),
                    );
                }
            }
            // Rows for pupils that are not (or no longer) in the table: the page was out of date.
            if row_errors
                .iter()
                .any(|(id, _)| !rows.iter().any(|r| r.pupil.id == *id))
            {
                errors.add(
                    "boom-titel",
                    "Een of meer leerlingen in het formulier staan niet (meer) in deze lijst, bijvoorbeeld omdat iemand anders ze intussen heeft uitgeschreven. Er is niets opgeslagen; controleer de nummers en sla opnieuw op.",
                );
            }
            let lines = rows
                .into_iter()
                .map(|row| BoomLine {
                    value: entries
                        .iter()
                        .find(|(id, _)| *id == row.pupil.id)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| {
                            row.pupil.boom_leerlingnummer.clone().unwrap_or_default()
                        }),
                    field: format!("n_{}", row.pupil.id),
                    row,
                })
                .collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&boom_page(&user, &scope, lines, errors, None))?,
            )
                .into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewToetsdoel {
    code: String,
    naam: String,
}

pub async fn add_toetsdoel(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(input): Form<NewToetsdoel>,
) -> Result<Response, WebError> {
    match state
        .app
        .add_toetsdoel(scope.school.id, &input.code, &input.naam, &user.actor(&ip))
        .await?
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/s/{}/instellingen/toetsdoelen?melding=toegevoegd",
            scope.code()
        ))
        .into_response()),
        Err(errors) => {
            let page =
                toetsdoelen_page(&state, &user, &scope, input.code, input.naam, errors, "").await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditToetsdoel {
    naam: String,
    actief: Option<String>,
    actie: String,
}

pub async fn edit_toetsdoel(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, id)): Path<(String, String)>,
    Form(input): Form<EditToetsdoel>,
) -> Result<Response, WebError> {
    let base = format!("/s/{}", scope.code());
    if input.actie == "verwijderen" {
        return match state
            .app
            .delete_toetsdoel(scope.school.id, &id, &user.actor(&ip))
            .await?
        {
            None => Err(WebError::NotFound),
            Some(true) => Ok(Redirect::to(&format!(
                "{base}/instellingen/toetsdoelen?melding=verwijderd"
            ))
            .into_response()),
            Some(false) => {
                let doelen = state.app.toetsdoelen(scope.school.id).await?;
                let doel = doelen
                    .into_iter()
                    .find(|d| d.id == id)
                    .ok_or(WebError::NotFound)?;
                let mut errors = FormErrors::default();
                errors.add("naam", "Dit toetsdoel is of was in gebruik bij leerlingen en kan daarom niet worden verwijderd. Zet het op niet actief: dan kun je het niet meer kiezen, maar blijft de geschiedenis kloppen.");
                let page = edit_page(
                    &user,
                    &scope,
                    doel,
                    input.naam,
                    input.actief.is_some(),
                    errors,
                );
                Ok((StatusCode::CONFLICT, render(&page)?).into_response())
            }
        };
    }
    match state
        .app
        .update_toetsdoel(
            scope.school.id,
            &id,
            &input.naam,
            input.actief.is_some(),
            &user.actor(&ip),
        )
        .await?
    {
        None => Err(WebError::NotFound),
        Some(Ok(())) => Ok(Redirect::to(&format!(
            "{base}/instellingen/toetsdoelen?melding=gewijzigd"
        ))
        .into_response()),
        Some(Err(errors)) => {
            let doelen = state.app.toetsdoelen(scope.school.id).await?;
            let doel = doelen
                .into_iter()
                .find(|d| d.id == id)
                .ok_or(WebError::NotFound)?;
            let page = edit_page(
                &user,
                &scope,
                doel,
                input.naam,
                input.actief.is_some(),
                errors,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

fn edit_page(
    user: &CurrentUser,
    scope: &SchoolScope,
    doel: startblok_db::toetsdoelen::Toetsdoel,
    naam: String,
    actief: bool,
    errors: FormErrors,
) -> ToetsdoelEditPage {
    let base = format!("/s/{}", scope.code());
    ToetsdoelEditPage {
        chrome: Chrome::for_school(
            "Toetsdoel wijzigen",
            user,
            scope,
            &format!("{base}/instellingen/toetsdoelen/x"),
        )
        .with_errors(!errors.is_empty()),
        base,
        doel,
        naam,
        actief,
        errors,
    }
}
