//! Instellingen > Toetsen (Beheerder): the vakken, the test catalogue (the Boom LVS lines to begin
//! with) with which onderdelen have a conversion table, and the conversion tables imported whole
//! or not at all (every refused line with its reason) and exported as CSV.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

pub struct ToetsRow {
    pub naam: String,
    pub leverancier: String,
    pub code: String,
    pub vak: String,
    /// Per onderdeel: its code and whether it has a conversion table (its own or the test's).
    pub onderdelen: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "toetsen.html")]
pub struct ToetsenPage {
    pub chrome: Chrome,
    pub base: String,
    pub vakken: Vec<String>,
    pub toetsen: Vec<ToetsRow>,
    pub errors: FormErrors,
    /// Refused lines of the conversion file (field `bestand`) or the catalogue (field `lijst`).
    pub lines: Vec<String>,
    pub lijst_lines: Vec<String>,
    pub notice: String,
    /// The new vak's name as typed.
    pub vak_naam: String,
}

impl ToetsenPage {
    pub const MAX_BYTES: usize = crate::access::MAX_UPLOAD_BYTES;
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Q {
    ingelezen: Option<usize>,
    toetsen: Option<usize>,
    vak: Option<String>,
    fout: String,
}

fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    errors: FormErrors,
    lines: Vec<String>,
    lijst_lines: Vec<String>,
    notice: String,
) -> Result<ToetsenPage, WebError> {
    let school = scope.school.id;
    let vakken = state.app.vakken(school).await?;
    let toetsen = state.app.toetsen(school).await?;
    let tables = state.app.conversietabellen(school).await?;
    let rows = toetsen
        .iter()
        .map(|t| ToetsRow {
            naam: t.naam.clone(),
            leverancier: t.leverancier.clone(),
            code: format!("{} (versie {})", t.toetscode, t.versie),
            vak: t
                .vak_id
                .as_ref()
                .and_then(|id| vakken.iter().find(|v| &v.id == id))
                .map(|v| v.naam.clone())
                .unwrap_or_default(),
            onderdelen: t
                .onderdelen
                .iter()
                .map(|o| {
                    (
                        o.clone(),
                        startblok_app::toetsen::table_for(&tables, &t.id, Some(o)).is_some(),
                    )
                })
                .collect(),
        })
        .collect();
    Ok(ToetsenPage {
        chrome: Chrome::for_school(
            "Toetsen",
            user,
            scope,
            &format!("{}/instellingen", base(scope)),
        )
        .with_errors(!errors.is_empty()),
        base: base(scope),
        vakken: vakken.iter().map(|v| v.naam.clone()).collect(),
        toetsen: rows,
        errors,
        lines,
        lijst_lines,
        notice,
        vak_naam: String::new(),
    })
}

const TOO_BIG: &str = "Het bestand is groter dan 2 MB. Een conversietabel is veel kleiner.";

pub async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<Q>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    if q.fout == "te-groot" {
        errors.add("bestand", TOO_BIG);
    }
    let notice = match (q.ingelezen, q.toetsen) {
        (Some(n), _) => format!(
            "{n} regels ingelezen. Resultaten zijn opnieuw verwerkt met de nieuwe tabellen."
        ),
        (_, Some(n)) => format!("{n} toetsen ingelezen."),
        _ if q.vak.is_some() => "Het vak is toegevoegd.".to_string(),
        _ => String::new(),
    };
    let p = page(
        &state,
        &user,
        &scope,
        errors,
        Vec::new(),
        Vec::new(),
        notice,
    )
    .await?;
    Ok(render(&p)?.into_response())
}

pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let file = crate::forms::uploaded_file(&mut multipart).await?;
    let mut errors = FormErrors::default();
    let mut lines = Vec::new();
    match file {
        Some((_, bytes)) => {
            match state
                .app
                .import_conversie(scope.school.id, &bytes, &user.actor(&ip))
                .await?
            {
                Ok(n) => {
                    return Ok(Redirect::to(&format!(
                        "{}/instellingen/toetsen?ingelezen={n}",
                        base(&scope)
                    ))
                    .into_response());
                }
                Err(refused) => {
                    errors.add(
                        "bestand",
                        "Het bestand is niet ingelezen; er is niets veranderd. Pas deze regels aan en lees het opnieuw in:",
                    );
                    lines = refused.iter().map(|l| l.to_string()).collect();
                }
            }
        }
        None => errors.add("bestand", "Kies een bestand met een conversietabel."),
    }
    let p = page(
        &state,
        &user,
        &scope,
        errors,
        lines,
        Vec::new(),
        String::new(),
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VakInput {
    vak_naam: String,
}

/// A vak added to the school's list.
pub async fn add_vak(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    axum::Form(input): axum::Form<VakInput>,
) -> Result<Response, WebError> {
    match state
        .app
        .add_vak(scope.school.id, &input.vak_naam, &user.actor(&ip))
        .await?
    {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/instellingen/toetsen?vak=1", base(&scope))).into_response(),
        ),
        Err(errors) => {
            let mut p = page(
                &state,
                &user,
                &scope,
                errors,
                Vec::new(),
                Vec::new(),
                String::new(),
            )
            .await?;
            p.vak_naam = input.vak_naam;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
    }
}

/// The catalogue from a file: known tests updated, new ones added; whole or not at all.
pub async fn import_lijst(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let file = crate::forms::uploaded_file(&mut multipart).await?;
    let mut errors = FormErrors::default();
    let mut lines = Vec::new();
    match file {
        Some((_, bytes)) => {
            match state
                .app
                .import_toetsen(scope.school.id, &bytes, &user.actor(&ip))
                .await?
            {
                Ok(n) => {
                    return Ok(Redirect::to(&format!(
                        "{}/instellingen/toetsen?toetsen={n}",
                        base(&scope)
                    ))
                    .into_response());
                }
                Err(refused) => {
                    errors.add(
                        "lijst",
                        "Het bestand is niet ingelezen; er is niets veranderd. Pas deze regels aan en lees het opnieuw in:",
                    );
                    lines = refused.iter().map(|l| l.to_string()).collect();
                }
            }
        }
        None => errors.add("lijst", "Kies een bestand met toetsen."),
    }
    let p = page(
        &state,
        &user,
        &scope,
        errors,
        Vec::new(),
        lines,
        String::new(),
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
}

pub async fn export_lijst(
    State(state): State<AppState>,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    let csv = state.app.toetsen_csv(scope.school.id).await?;
    Ok(crate::forms::csv_download(
        &format!("toetsen-{}.csv", scope.code()),
        csv,
    ))
}

pub async fn export(
    State(state): State<AppState>,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    let csv = state.app.conversie_csv(scope.school.id).await?;
    Ok(crate::forms::csv_download(
        &format!("conversietabellen-{}.csv", scope.code()),
        csv,
    ))
}
