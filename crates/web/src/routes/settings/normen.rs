//! Instellingen > Toetsdoelen & normen (Beheerder): per toetsdoel a grid of vak × fase with the
//! DLE norm (ondergrens – streef), gaps shown; a norms file imported whole or not at all, with
//! every refused line; all norms exported as CSV. Editing a cell in place is still to come.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_domain::norms::Dle;

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "normen.html")]
pub struct NormenPage {
    pub chrome: Chrome,
    pub base: String,
    /// (id, "CODE – naam")
    pub doelen: Vec<(String, String)>,
    pub selected: String,
    pub selected_name: String,
    pub fases: Vec<u8>,
    /// Per vak: its name and per fase "ondergrens – streef" or "" for a gap.
    pub grid: Vec<(String, Vec<String>)>,
    pub gaps: usize,
    pub errors: FormErrors,
    pub lines: Vec<String>,
    pub notice: String,
}

impl NormenPage {
    pub const MAX_BYTES: usize = crate::access::MAX_UPLOAD_BYTES;
}

#[derive(Deserialize, Default)]
pub struct Q {
    #[serde(default)]
    toetsdoel: String,
    #[serde(default)]
    ingelezen: Option<usize>,
    #[serde(default)]
    fout: String,
}

fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

fn show(tenths: i64) -> String {
    Dle::parse(&format!("{},{}", tenths / 10, tenths % 10))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    toetsdoel: &str,
    errors: FormErrors,
    lines: Vec<String>,
    notice: String,
) -> Result<NormenPage, WebError> {
    let school = scope.school.id;
    let vakken = state.app.vakken(school).await?;
    let mut c = state.app.db.conn().await?;
    let doelen = startblok_db::toetsdoelen::list(&mut c, school).await?;
    let normen = startblok_db::norms::normen(&mut c, school).await?;
    drop(c);
    let selected = doelen
        .iter()
        .find(|d| d.id == toetsdoel)
        .or_else(|| doelen.first());
    let fases: Vec<u8> = (1..=5).collect();
    let (grid, gaps) = match selected {
        Some(d) => {
            let mut gaps = 0;
            let grid = vakken
                .iter()
                .map(|v| {
                    let cells = fases
                        .iter()
                        .map(|f| {
                            normen
                                .iter()
                                .find(|n| {
                                    n.toetsdoel_id == d.id
                                        && n.vak_id == v.id
                                        && n.fase == i64::from(*f)
                                })
                                .map(|n| {
                                    format!(
                                        "{} – {}",
                                        show(n.ondergrens_tenths),
                                        show(n.streef_tenths)
                                    )
                                })
                                .unwrap_or_else(|| {
                                    gaps += 1;
                                    String::new()
                                })
                        })
                        .collect();
                    (v.naam.clone(), cells)
                })
                .collect();
            (grid, gaps)
        }
        None => (Vec::new(), 0),
    };
    Ok(NormenPage {
        chrome: Chrome::for_school(
            "Toetsdoelen & normen",
            user,
            scope,
            &format!("{}/instellingen", base(scope)),
        )
        .with_errors(!errors.is_empty()),
        base: base(scope),
        selected: selected.map(|d| d.id.clone()).unwrap_or_default(),
        selected_name: selected
            .map(|d| format!("{} – {}", d.code, d.naam))
            .unwrap_or_default(),
        doelen: doelen
            .iter()
            .map(|d| (d.id.clone(), d.code.clone()))
            .collect(),
        fases,
        grid,
        gaps,
        errors,
        lines,
        notice,
    })
}

pub async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<Q>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    if q.fout == "te-groot" {
        errors.add(
            "bestand",
            "Het bestand is groter dan 2 MB. Een bestand met normen is veel kleiner.",
        );
    }
    let notice = q
        .ingelezen
        .map(|n| format!("{n} normen ingelezen."))
        .unwrap_or_default();
    let p = page(
        &state,
        &user,
        &scope,
        &q.toetsdoel,
        errors,
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
                .import_normen(scope.school.id, &bytes, &user.actor(&ip))
                .await?
            {
                Ok(n) => {
                    return Ok(Redirect::to(&format!(
                        "{}/instellingen/normen?ingelezen={n}",
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
        None => errors.add("bestand", "Kies een bestand met normen."),
    }
    let p = page(&state, &user, &scope, "", errors, lines, String::new()).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
}

pub async fn export(
    State(state): State<AppState>,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    let csv = state.app.normen_csv(scope.school.id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"normen-{}.csv\"", scope.code()),
            ),
        ],
        csv,
    )
        .into_response())
}
