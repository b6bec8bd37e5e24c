//! Groepsoverzicht: the pupils of one group × vakken with the latest judgement and DLE, filtered
//! by fase and toetsdoel, the counts per judgement per vak on top; exportable as CSV. A
//! leerkracht chooses among their own groups; a beheerder and an ib'er among all.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use startblok_app::resultaten::{Counts, Overview, OverviewFilter};
use startblok_domain::format_date;
use startblok_domain::norms::Judgement;

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chrome::Chrome;
use crate::error::{WebError, render};

pub struct CellView {
    pub kind: &'static str,
    pub text: String,
    pub datum: String,
}

pub struct RowView {
    pub url: String,
    pub naam: String,
    pub fase: String,
    pub toetsdoel: String,
    pub cells: Vec<Option<CellView>>,
    pub open_errors: usize,
}

#[derive(Template)]
#[template(path = "overzicht.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub base: String,
    pub filter: OverviewFilter,
    pub group_options: Vec<(String, String)>,
    pub fase_options: Vec<(String, String)>,
    pub doel_options: Vec<(String, String)>,
    pub groep_naam: String,
    pub vakken: Vec<String>,
    pub counts: Vec<Counts>,
    /// Vakken without results in this group (no column).
    pub zonder: Vec<String>,
    pub rows: Vec<RowView>,
    pub csv_url: String,
    /// The toetsdoelen shown in the rows, as "CODE: naam", for the legend under the table.
    pub doel_legend: Vec<String>,
}

fn view(o: Overview, filter: OverviewFilter, base: String, chrome: Chrome) -> OverviewPage {
    let mut group_options = vec![(String::new(), "Kies een groep…".to_string())];
    group_options.extend(o.groups.iter().cloned());
    let mut fase_options = vec![(String::new(), "Alle fases".to_string())];
    fase_options.extend((1..=5).map(|f| (f.to_string(), format!("Fase {f}"))));
    let mut doel_options = vec![(String::new(), "Alle toetsdoelen".to_string())];
    doel_options.extend(
        o.toetsdoelen
            .iter()
            .map(|d| (d.id.clone(), format!("{} – {}", d.code, d.naam))),
    );
    doel_options.push(("geen".into(), "Zonder toetsdoel".into()));
    // Vakken without any result in this group take no column; the page names them below.
    let mut keep: Vec<usize> = (0..o.vakken.len())
        .filter(|k| o.rows.iter().any(|r| r.cells[*k].is_some()))
        .collect();
    if keep.is_empty() {
        keep = (0..o.vakken.len()).collect();
    }
    let zonder: Vec<String> = (0..o.vakken.len())
        .filter(|k| !keep.contains(k))
        .map(|k| o.vakken[k].naam.clone())
        .collect();
    let rows = o
        .rows
        .iter()
        .map(|r| RowView {
            url: format!("{base}/leerlingen/{}/resultaten", r.pupil.id),
            naam: r.pupil.display_name(),
            fase: r.fase.map(|f| f.to_string()).unwrap_or_else(|| "–".into()),
            toetsdoel: r.toetsdoel_code.clone(),
            open_errors: r.open_errors,
            cells: keep
                .iter()
                .map(|k| &r.cells[*k])
                .map(|c| {
                    c.as_ref().map(|c| {
                        let (kind, sym) = match c.judgement {
                            Judgement::OnderNorm => ("onder", "▼"),
                            Judgement::OpNorm => ("op", "●"),
                            Judgement::OpStreefniveau => ("streef", "■"),
                        };
                        CellView {
                            kind,
                            text: format!("{sym} DLE {} · {}", c.dle, c.judgement.label()),
                            datum: format_date(c.afnamedatum),
                        }
                    })
                })
                .collect(),
        })
        .collect();
    // Ids, digits and "geen": anything else is dropped rather than escaped.
    let safe = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect()
    };
    let query = format!(
        "groep={}&fase={}&toetsdoel={}",
        safe(&filter.groep),
        safe(&filter.fase),
        safe(&filter.toetsdoel)
    );
    let doel_legend = o
        .toetsdoelen
        .iter()
        .filter(|d| o.rows.iter().any(|r| r.toetsdoel_code == d.code))
        .map(|d| format!("{}: {}", d.code, d.naam))
        .collect();
    OverviewPage {
        doel_legend,
        chrome,
        csv_url: format!("{base}/overzicht.csv?{query}"),
        base,
        groep_naam: o.groep.as_ref().map(|g| g.naam.clone()).unwrap_or_default(),
        vakken: keep.iter().map(|k| o.vakken[*k].naam.clone()).collect(),
        counts: keep.iter().map(|k| o.counts[*k].clone()).collect(),
        zonder,
        rows,
        filter,
        group_options,
        fase_options,
        doel_options,
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Query(mut filter): Query<OverviewFilter>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let mut o = state.app.group_overview(&who, &filter, false).await?;
    // With one group to choose from, show it at once.
    if o.groep.is_none() && filter.groep.is_empty() && o.groups.len() == 1 {
        filter.groep = o.groups[0].0.clone();
        o = state.app.group_overview(&who, &filter, false).await?;
    }
    if o.groep.is_none() && !filter.groep.is_empty() {
        return Err(WebError::NotFound);
    }
    let base = format!("/s/{}", scope.code());
    let chrome = Chrome::for_school(
        "Groepsoverzicht",
        &user,
        &scope,
        &format!("{base}/overzicht"),
    );
    Ok(render(&view(o, filter, base, chrome))?.into_response())
}

pub async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Query(filter): Query<OverviewFilter>,
) -> Result<Response, WebError> {
    if filter.groep.is_empty() {
        // No group chosen yet: the page lets you choose one.
        return Ok(Redirect::to(&format!("/s/{}/overzicht", scope.code())).into_response());
    }
    let who = in_school(&user, &scope, &ip);
    let Some((naam, text)) = state.app.group_overview_csv(&who, &filter).await? else {
        return Err(WebError::NotFound);
    };
    let safe: String = naam
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok(crate::forms::csv_download(
        &format!("groepsoverzicht-{safe}.csv"),
        text,
    ))
}
