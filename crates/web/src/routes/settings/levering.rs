//! Instellingen > Boom testcentrum, the intake part: fixing open errors (each fix processes
//! every open error again and says how many it resolved), "opnieuw verwerken", and the page of
//! one delivery with its results.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::intake::{Gegevens, fout_uitleg, nl_date};
use startblok_db::leveringen::Scope;

use super::koppeling::{FixError, LeveringRow, Said, levering_row, render_page};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chrome::Chrome;
use crate::error::{WebError, render};

fn path(scope: &SchoolScope) -> String {
    format!("/s/{}/instellingen/boom-testcentrum", scope.code())
}

#[derive(Deserialize, Default)]
pub struct FixForm {
    #[serde(default)]
    actie: String,
    #[serde(default)]
    leerlingid: String,
    #[serde(default)]
    leerling: String,
    #[serde(default)]
    toetscode: String,
    #[serde(default)]
    versie: String,
    #[serde(default)]
    vak: String,
    #[serde(default)]
    resultaat: String,
    #[serde(default)]
    reden: String,
}

fn internal(e: impl ToString) -> WebError {
    WebError::Internal(e.to_string())
}

/// POST …/boom-testcentrum/fouten: one fix, or "opnieuw verwerken" of one result.
pub async fn fix(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(form): Form<FixForm>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let back =
        |n: usize| Redirect::to(&format!("{}?opgelost={n}#fouten", path(&scope))).into_response();
    let refused = |bij: String, fout: String, gekozen: String| FixError { bij, fout, gekozen };
    let outcome = match form.actie.as_str() {
        "leerling" => state
            .app
            .assign_leerlingid(&who, form.leerlingid.trim(), &form.leerling)
            .await
            .map_err(internal)?
            .map_err(|m| {
                refused(
                    format!("l-{}", form.leerlingid.trim()),
                    m,
                    form.leerling.clone(),
                )
            }),
        "toets" => state
            .app
            .map_toets(&who, &form.toetscode, &form.versie, &form.vak)
            .await
            .map_err(internal)?
            .map_err(|m| {
                refused(
                    format!("t-{}-{}", form.toetscode, form.versie),
                    m,
                    form.vak.clone(),
                )
            }),
        "negeren" => {
            match state
                .app
                .dismiss_error(&who, &form.resultaat, &form.reden)
                .await
                .map_err(internal)?
            {
                Ok(()) => {
                    return Ok(
                        Redirect::to(&format!("{}?genegeerd=1#fouten", path(&scope)))
                            .into_response(),
                    );
                }
                Err(m) => Err(refused(
                    format!("r-{}", form.resultaat),
                    m,
                    form.reden.clone(),
                )),
            }
        }
        "opnieuw" => {
            let before = state
                .app
                .intake_overview(scope.school.id, 0, 1)
                .await
                .map_err(internal)?
                .open;
            state
                .app
                .reprocess_received(&Scope::One(scope.school.id, form.resultaat.clone()))
                .await
                .map_err(internal)?;
            let after = state
                .app
                .intake_overview(scope.school.id, 0, 1)
                .await
                .map_err(internal)?
                .open;
            Ok(before.saturating_sub(after))
        }
        _ => return Ok(Redirect::to(&path(&scope)).into_response()),
    };
    match outcome {
        Ok(n) => Ok(back(n)),
        Err(fix) => render_page(&state, &user, &scope, &Said::default(), fix).await,
    }
}

#[derive(Template)]
#[template(path = "boom_levering.html")]
pub struct LeveringPage {
    pub chrome: Chrome,
    pub base: String,
    pub l: LeveringRow,
    pub schooljaar: String,
    pub auteur: String,
    pub aanmaakdatum: String,
    pub xsdversie: String,
    pub sha256: String,
    pub grootte: String,
    pub bewaard: bool,
    pub rows: Vec<ResultLine>,
    pub pagina: i64,
    pub paginas: i64,
    pub notice: String,
}

pub struct ResultLine {
    pub leerlingid: String,
    pub pupil: Option<(String, String)>,
    pub toets: String,
    pub afnamedatum: String,
    pub score: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub uitleg: String,
}

#[derive(Deserialize, Default)]
pub struct LeveringQuery {
    #[serde(default)]
    id: String,
    #[serde(default)]
    pagina: Option<i64>,
    #[serde(default)]
    verwerkt: Option<usize>,
}

const RESULTS_PER_PAGE: i64 = 100;

/// GET …/boom-testcentrum/levering?id=…: one delivery and its results.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<LeveringQuery>,
) -> Result<Response, WebError> {
    if q.id.is_empty() {
        return Ok(Redirect::to(&path(&scope)).into_response());
    }
    let pagina = q.pagina.unwrap_or(1).max(1);
    let Some((l, rows)) = state
        .app
        .levering_detail(
            scope.school.id,
            &q.id,
            (pagina - 1) * RESULTS_PER_PAGE,
            RESULTS_PER_PAGE,
        )
        .await
        .map_err(internal)?
    else {
        return Err(WebError::NotFound);
    };
    let pupils = state
        .app
        .intake_overview(scope.school.id, 0, 1)
        .await
        .map_err(internal)?
        .pupils;
    let mut lines = Vec::new();
    for r in &rows {
        let g = Gegevens::parse(&r.gegevens).map_err(internal)?;
        let id = &r.identity;
        let toets = if id.onderdeel.is_empty() {
            id.toetscode.clone()
        } else {
            format!("{} ({})", id.toetscode, id.onderdeel)
        };
        let (status, class) = match r.status.as_str() {
            "verwerkt" => ("Verwerkt", "sb-state--ok"),
            "fout" => ("Fout", "sb-state--off"),
            "genegeerd" => ("Genegeerd", "sb-state--wait"),
            _ => ("Wacht op verwerking", "sb-state--wait"),
        };
        lines.push(ResultLine {
            leerlingid: id.leerlingid.clone(),
            pupil: r.pupil_id.as_ref().and_then(|p| {
                pupils
                    .iter()
                    .find(|x| &x.0 == p)
                    .map(|x| (x.0.clone(), x.1.clone()))
            }),
            toets: toets.clone(),
            afnamedatum: nl_date(&id.afnamedatum),
            score: g
                .referentie("DLE")
                .map(|d| format!("DLE {d}"))
                .or_else(|| g.referentie("FN").map(|f| format!("FN {f}")))
                .or_else(|| g.inhoud.score.clone().map(|s| format!("score {s}")))
                .unwrap_or_default(),
            status,
            status_class: class,
            uitleg: match (&r.fout, &r.genegeerd_reden) {
                (Some(f), _) => fout_uitleg(f, &id.leerlingid, &toets),
                (None, Some(reden)) => format!("Genegeerd: {reden}"),
                _ => String::new(),
            },
        });
    }
    let count = l.nieuw + l.gewijzigd;
    let paginas = ((count.max(rows.len() as i64) + RESULTS_PER_PAGE - 1) / RESULTS_PER_PAGE).max(1);
    let page = LeveringPage {
        chrome: Chrome::for_school("Levering", &user, &scope, &path(&scope)),
        base: format!("/s/{}", scope.code()),
        schooljaar: l.schooljaar.clone(),
        auteur: l.auteur.clone().unwrap_or_default(),
        aanmaakdatum: l.aanmaakdatum.clone().unwrap_or_default(),
        xsdversie: l.xsdversie.clone().unwrap_or_else(|| "2.2".into()),
        sha256: l.sha256.clone(),
        grootte: format!("{:.1} kB", l.grootte as f64 / 1024.0).replace('.', ","),
        bewaard: l.body_bewaard,
        l: levering_row(&l),
        rows: lines,
        pagina,
        paginas,
        notice: q
            .verwerkt
            .map(|n| format!("Opnieuw verwerkt: {n} resultaten."))
            .unwrap_or_default(),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize, Default)]
pub struct ReprocessForm {
    #[serde(default)]
    id: String,
}

/// POST …/boom-testcentrum/levering: "opnieuw verwerken" for a whole delivery.
pub async fn reprocess(
    State(state): State<AppState>,
    scope: SchoolScope,
    Form(form): Form<ReprocessForm>,
) -> Result<Response, WebError> {
    let exists = state
        .app
        .levering_detail(scope.school.id, &form.id, 0, 0)
        .await
        .map_err(internal)?
        .is_some();
    if !exists {
        return Ok(Redirect::to(&path(&scope)).into_response());
    }
    let run = state
        .app
        .reprocess_received(&Scope::Levering(scope.school.id, form.id.clone()))
        .await
        .map_err(internal)?;
    Ok(Redirect::to(&format!(
        "{}/levering?id={}&verwerkt={}",
        path(&scope),
        form.id,
        run.verwerkt + run.fouten
    ))
    .into_response())
}
