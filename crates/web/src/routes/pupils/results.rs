//! Tab RESULTATEN of the Leerlingkaart: per vak the DLE chart against the norm band and the
//! table of results (the chart's accessible alternative); entering a paper test's result by hand;
//! removing a result entered by hand, after a confirmation.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::resultaten::{PupilResults, ResultInput, ResultRow, VakResults};
use startblok_domain::format_date;
use startblok_domain::norms::{Judgement, ResultFout};

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chart::{self, Band, DleChart, Point};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

/// One table row as shown.
pub struct Row {
    pub id: String,
    pub datum: String,
    /// The school's test period of the afnamedatum, or empty.
    pub periode: String,
    pub toets: String,
    pub dle: String,
    pub bron: String,
    /// The score as entered or received, with its kind, or empty.
    pub score: String,
    pub fase: String,
    pub toetsdoel: String,
    pub norm: String,
    /// CSS modifier: onder, op, streef, fout.
    pub oordeel_kind: &'static str,
    pub oordeel: String,
    pub groei: String,
    /// DL, achterstand and leerrendement, or empty when the start of groep 3 is unknown.
    pub dl: String,
    pub achterstand: String,
    pub leerrendement: String,
    pub removable: bool,
    pub herkomst: &'static str,
}

pub struct VakSection {
    pub id: String,
    pub naam: String,
    pub chart: String,
    pub rows: Vec<Row>,
    /// Some row has a DL (the pupil's start of groep 3 is known).
    pub has_dl: bool,
}

#[derive(Template)]
#[template(path = "pupil_resultaten.html")]
pub struct ResultsPage {
    pub chrome: Chrome,
    pub base: String,
    pub view: PupilResults,
    pub sections: Vec<VakSection>,
    pub form: ResultInput,
    pub errors: FormErrors,
    pub notice: String,
    pub notice_kind: &'static str,
    pub vak_options: Vec<(String, String)>,
    pub toets_options: Vec<(String, String)>,
}

fn symbol(j: Option<Judgement>) -> (&'static str, &'static str) {
    match j {
        Some(Judgement::OnderNorm) => ("onder", "▼"),
        Some(Judgement::OpNorm) => ("op", "●"),
        Some(Judgement::OpStreefniveau) => ("streef", "■"),
        None => ("fout", "✕"),
    }
}

fn months(f: f64) -> String {
    let s = format!("{f:+.1}").replace('.', ",");
    s.replace("-", "−")
}

fn row(r: &ResultRow) -> Row {
    let (kind, sym) = symbol(r.judgement);
    let oordeel = match (r.judgement, r.fout) {
        (Some(j), _) => format!("{sym} {}", j.label()),
        (None, Some(f)) => format!("{sym} niet beoordeeld: {}", f.label().to_lowercase()),
        (None, None) => format!("{sym} niet beoordeeld"),
    };
    let d = &r.r.derived;
    Row {
        id: r.r.id.clone(),
        datum: format_date(r.r.afnamedatum),
        periode: r.periode.clone().unwrap_or_default(),
        toets: match (&r.r.toetsnaam, &r.r.onderdeel) {
            (Some(t), Some(o)) => format!("{t} ({o})"),
            (Some(t), None) => t.clone(),
            (None, Some(o)) => o.clone(),
            (None, None) => "Papieren toets".into(),
        },
        dle: r.dle.map(|d| d.to_string()).unwrap_or_else(|| "–".into()),
        bron: match (r.r.herkomst.as_str(), d.dle_bron.as_deref()) {
            ("handmatig", Some("referentiescore")) => String::new(),
            (_, Some(b)) => format!("DLE uit {b}"),
            (_, None) => String::new(),
        },
        score: match (&r.r.score, &r.r.vaardigheidsscore) {
            (Some(s), _) => format!("score {s}"),
            (None, Some(v)) => format!("vaardigheidsscore {v}"),
            _ => String::new(),
        },
        fase: d.fase.map(|f| f.to_string()).unwrap_or_else(|| "–".into()),
        toetsdoel: r.toetsdoel_code.clone(),
        norm: r
            .norm
            .map(|n| format!("{} – {}", n.ondergrens, n.streef))
            .unwrap_or_else(|| "–".into()),
        oordeel_kind: kind,
        oordeel,
        groei: r.groei.map(months).unwrap_or_default(),
        dl: r.dl.map(|d| d.to_string()).unwrap_or_default(),
        achterstand: r
            .achterstand
            .map(|a| format!("{a:.1}").replace('.', ",").replace('-', "−"))
            .unwrap_or_default(),
        leerrendement: r
            .leerrendement
            .map(|l| format!("{l:.0} %"))
            .unwrap_or_default(),
        removable: r.r.herkomst == "handmatig",
        herkomst: if r.r.herkomst == "handmatig" {
            "met de hand ingevoerd"
        } else {
            "Boom testcentrum"
        },
    }
}

fn vak_naam(v: &VakResults) -> String {
    v.vak
        .as_ref()
        .map(|v| v.naam.clone())
        .unwrap_or_else(|| "Nog zonder vak".into())
}

fn chart_of(v: &VakResults, pupil_name: &str) -> DleChart {
    let id = format!(
        "grafiek-{}",
        v.vak
            .as_ref()
            .map(|v| v.id.as_str())
            .unwrap_or("zonder-vak")
    );
    DleChart {
        id,
        title: format!("{}: DLE van {pupil_name}", vak_naam(v)),
        points: v
            .rows
            .iter()
            .filter_map(|r| {
                Some(Point {
                    date: r.r.afnamedatum,
                    dle: r.dle?,
                    judgement: r.judgement,
                })
            })
            .collect(),
        bands: v
            .bands
            .iter()
            .map(|b| Band {
                fase: b.fase,
                from: b.from,
                to: b.to,
                ondergrens: b.norm.ondergrens,
                streef: b.norm.streef,
            })
            .collect(),
        y_top: None,
    }
}

fn section(v: &VakResults, pupil_name: &str, y_top: f64) -> VakSection {
    let mut chart = chart_of(v, pupil_name);
    chart.y_top = Some(y_top);
    VakSection {
        id: chart.id.clone(),
        naam: vak_naam(v),
        chart: chart::dle_chart(&chart),
        rows: v.rows.iter().rev().map(row).collect(),
        has_dl: v.rows.iter().any(|r| r.dl.is_some()),
    }
}

/// What the page says after a result was entered: the judgement, or why there is none and
/// what to do about it.
fn entered_notice(view: &PupilResults, id: &str) -> Option<(String, &'static str)> {
    let r = view
        .per_vak
        .iter()
        .flat_map(|v| &v.rows)
        .find(|r| r.r.id == id)?;
    let dle = r.dle.map(|d| format!("DLE {d}")).unwrap_or_default();
    Some(match (r.judgement, r.fout) {
        (Some(j), _) => (
            format!("Het resultaat is opgeslagen: {dle}, {}.", j.label()),
            "ok",
        ),
        (None, Some(f)) => {
            let what = match f {
                ResultFout::GeenToetsdoel => {
                    "Kies op tab BASIS een toetsdoel dat geldt op de afnamedatum; dan wordt het resultaat meteen beoordeeld."
                }
                ResultFout::GeenNorm => {
                    "Vul de norm aan bij Instellingen > Toetsdoelen & normen; dan wordt het resultaat meteen beoordeeld."
                }
                ResultFout::GeenDle | ResultFout::OngeldigeScore => {
                    "Vul de DLE zelf in, of voeg een conversietabel toe bij Instellingen > Toetsen."
                }
            };
            (
                format!(
                    "Het resultaat is opgeslagen, maar nog niet beoordeeld: {}. {what}",
                    f.label().to_lowercase()
                ),
                "warning",
            )
        }
        (None, None) => ("Het resultaat is opgeslagen.".into(), "ok"),
    })
}

#[allow(clippy::too_many_arguments)]
fn page(
    user: &CurrentUser,
    scope: &SchoolScope,
    view: PupilResults,
    form: ResultInput,
    errors: FormErrors,
    notice: String,
    notice_kind: &'static str,
) -> ResultsPage {
    let base = format!("/s/{}", scope.code());
    let name = view.pupil.display_name();
    // One DLE scale for every chart on the page, so vakken compare at a glance.
    let top = view
        .per_vak
        .iter()
        .map(|v| chart::axis_top(&chart_of(v, &name)))
        .fold(10.0_f64, f64::max);
    let sections = view
        .per_vak
        .iter()
        .map(|v| section(v, &name, top))
        .collect();
    let mut vak_options = vec![(String::new(), "Kies…".to_string())];
    vak_options.extend(view.vakken.iter().map(|v| (v.id.clone(), v.naam.clone())));
    let mut toets_options = vec![(String::new(), "Geen toets uit de lijst".to_string())];
    toets_options.extend(view.toetsen.iter().map(|t| {
        let vak = t
            .vak_id
            .as_ref()
            .and_then(|id| view.vakken.iter().find(|v| &v.id == id))
            .map(|v| format!(" – {}", v.naam))
            .unwrap_or_default();
        (t.id.clone(), format!("{}{vak}", t.naam))
    }));
    ResultsPage {
        chrome: Chrome::for_school(&name, user, scope, &format!("{base}/leerlingen/x"))
            .with_errors(!errors.is_empty()),
        base,
        view,
        sections,
        form,
        errors,
        notice,
        notice_kind,
        vak_options,
        toets_options,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Q {
    ingevoerd: String,
    verwijderd: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let Some(view) = state.app.pupil_results(&who, &pupil).await? else {
        return Err(WebError::NotFound);
    };
    let (notice, kind) = if q.verwijderd.is_some() {
        ("Het resultaat is verwijderd.".to_string(), "ok")
    } else {
        entered_notice(&view, &q.ingevoerd).unwrap_or_default()
    };
    let form = ResultInput {
        afnamedatum: format_date(startblok_domain::today_nl(startblok_app::now())),
        ..Default::default()
    };
    let p = page(
        &user,
        &scope,
        view,
        form,
        FormErrors::default(),
        notice,
        kind,
    );
    Ok(render(&p)?.into_response())
}

pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
    Form(input): Form<ResultInput>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    match state.app.add_result(&who, &pupil, &input).await? {
        None => Err(WebError::NotFound),
        Some(Ok(r)) => Ok(Redirect::to(&format!(
            "/s/{}/leerlingen/{pupil}/resultaten?ingevoerd={}#resultaat-{}",
            scope.code(),
            r.id,
            r.id
        ))
        .into_response()),
        Some(Err(errors)) => {
            let view = state
                .app
                .pupil_results(&who, &pupil)
                .await?
                .ok_or(WebError::NotFound)?;
            let p = page(&user, &scope, view, input, errors, String::new(), "ok");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "pupil_resultaat_verwijderen.html")]
pub struct RemovePage {
    pub chrome: Chrome,
    pub naam: String,
    pub back: String,
    pub action: String,
    pub wat: String,
}

pub async fn remove_form(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil, id)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let Some((p, r)) = state.app.result_of(&who, &pupil, &id).await? else {
        return Err(WebError::NotFound);
    };
    let base = format!("/s/{}", scope.code());
    let vak = match &r.vak_id {
        Some(id) => state
            .app
            .vakken(scope.school.id)
            .await?
            .into_iter()
            .find(|v| &v.id == id)
            .map(|v| format!("{}: ", v.naam))
            .unwrap_or_default(),
        None => String::new(),
    };
    let wat = format!(
        "{vak}{} van {}{}",
        r.toetsnaam
            .clone()
            .unwrap_or_else(|| "papieren toets".into()),
        format_date(r.afnamedatum),
        r.derived
            .dle
            .as_ref()
            .map(|d| format!(", DLE {d}"))
            .unwrap_or_default()
    );
    let page = RemovePage {
        chrome: Chrome::for_school(
            "Resultaat verwijderen",
            &user,
            &scope,
            &format!("{base}/leerlingen/x"),
        ),
        naam: p.display_name(),
        back: format!("{base}/leerlingen/{}/resultaten", p.id),
        action: format!("{base}/leerlingen/{}/resultaten/{}/verwijderen", p.id, r.id),
        wat,
    };
    Ok(render(&page)?.into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil, id)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    // Removed now or already by an earlier click: either way the result is gone.
    if state.app.remove_result(&who, &pupil, &id).await?.is_none() {
        return Err(WebError::NotFound);
    }
    Ok(Redirect::to(&format!(
        "/s/{}/leerlingen/{pupil}/resultaten?verwijderd=1",
        scope.code()
    ))
    .into_response())
}
