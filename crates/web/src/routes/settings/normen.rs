//! Instellingen > Toetsdoelen & normen (Beheerder): per toetsdoel a grid of vak × fase with the
//! DLE norm (ondergrens – streef), gaps shown; a norms file imported whole or not at all, with
//! every refused line; all norms exported as CSV; the grid of one toetsdoel edited in place and
//! saved whole or not at all, each error at its cell.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
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
    pub grid: Vec<GridRow>,
    pub gaps: usize,
    /// The grid is shown as a form to edit in place.
    pub editing: bool,
    pub errors: FormErrors,
    pub lines: Vec<String>,
    pub notice: String,
}

pub struct GridRow {
    pub vak_id: String,
    pub naam: String,
    pub cells: Vec<Cell>,
}

pub struct Cell {
    pub fase: u8,
    /// As stored or as typed.
    pub ondergrens: String,
    pub streef: String,
}

impl Cell {
    pub fn is_gap(&self) -> bool {
        self.ondergrens.is_empty() && self.streef.is_empty()
    }
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
    #[serde(default)]
    wijzigen: Option<String>,
    #[serde(default)]
    opgeslagen: Option<usize>,
}

fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

fn show(tenths: i64) -> String {
    u16::try_from(tenths)
        .ok()
        .and_then(|t| Dle::from_tenths(t, startblok_domain::norms::Bound::Exact))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    toetsdoel: &str,
    errors: FormErrors,
    lines: Vec<String>,
    notice: String,
    editing: bool,
    typed: Option<&std::collections::HashMap<String, String>>,
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
    let mut gaps = 0;
    let grid: Vec<GridRow> = match selected {
        Some(d) => vakken
            .iter()
            .map(|v| GridRow {
                vak_id: v.id.clone(),
                naam: v.naam.clone(),
                cells: fases
                    .iter()
                    .map(|f| {
                        let stored = normen.iter().find(|n| {
                            n.toetsdoel_id == d.id && n.vak_id == v.id && n.fase == i64::from(*f)
                        });
                        let (mut o, mut st) = stored
                            .map(|n| (show(n.ondergrens_tenths), show(n.streef_tenths)))
                            .unwrap_or_default();
                        if let Some(t) = typed {
                            o = t
                                .get(&format!("o-{}-{f}", v.id))
                                .cloned()
                                .unwrap_or_default();
                            st = t
                                .get(&format!("s-{}-{f}", v.id))
                                .cloned()
                                .unwrap_or_default();
                        }
                        if stored.is_none() {
                            gaps += 1;
                        }
                        Cell {
                            fase: *f,
                            ondergrens: o,
                            streef: st,
                        }
                    })
                    .collect(),
            })
            .collect(),
        None => Vec::new(),
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
        editing,
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
    let notice = match (q.ingelezen, q.opgeslagen) {
        (Some(n), _) => format!("{n} normen ingelezen."),
        (_, Some(_)) => {
            "De normen zijn opgeslagen. Resultaten zijn opnieuw beoordeeld met de nieuwe normen."
                .to_string()
        }
        _ => String::new(),
    };
    let p = page(
        &state,
        &user,
        &scope,
        &q.toetsdoel,
        errors,
        Vec::new(),
        notice,
        q.wijzigen.is_some(),
        None,
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
    let p = page(
        &state,
        &user,
        &scope,
        "",
        errors,
        lines,
        String::new(),
        false,
        None,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
}

pub async fn export(
    State(state): State<AppState>,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    let csv = state.app.normen_csv(scope.school.id).await?;
    Ok(crate::forms::csv_download(
        &format!("normen-{}.csv", scope.code()),
        csv,
    ))
}

/// The grid of one toetsdoel as edited in place: fields `o-VAK-FASE` and `s-VAK-FASE`. Saved whole
/// or not at all; with errors the grid comes back as typed, each error at its cell.
pub async fn save_grid(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    axum::extract::Path((_, toetsdoel)): axum::extract::Path<(String, String)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let typed: std::collections::HashMap<String, String> = form.into_iter().collect();
    let vakken = state.app.vakken(scope.school.id).await?;
    let cells: Vec<startblok_app::normen::GridCell> = vakken
        .iter()
        .flat_map(|v| {
            (1..=5).map(|f| startblok_app::normen::GridCell {
                vak: v.id.clone(),
                fase: f,
                ondergrens: typed
                    .get(&format!("o-{}-{f}", v.id))
                    .cloned()
                    .unwrap_or_default(),
                streef: typed
                    .get(&format!("s-{}-{f}", v.id))
                    .cloned()
                    .unwrap_or_default(),
            })
        })
        .collect();
    match state
        .app
        .save_norm_grid(scope.school.id, &toetsdoel, &cells, &user.actor(&ip))
        .await?
    {
        None => Err(WebError::NotFound),
        Some(Ok(n)) => Ok(Redirect::to(&format!(
            "{}/instellingen/normen?toetsdoel={toetsdoel}&opgeslagen={n}",
            base(&scope)
        ))
        .into_response()),
        Some(Err(errors)) => {
            let p = page(
                &state,
                &user,
                &scope,
                &toetsdoel,
                errors,
                Vec::new(),
                String::new(),
                true,
                Some(&typed),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
    }
}
