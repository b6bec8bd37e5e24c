//! Instellingen > School Setup (Beheerder): the fase bands, shown as what each fase means, and the
//! test periods. Each form keeps its input and says at the field what is wrong.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::school_setup::PeriodeInput;
use startblok_domain::format_date;

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "school_setup.html")]
pub struct SetupPage {
    pub chrome: Chrome,
    pub base: String,
    pub fasegrenzen: String,
    /// (fase, "0–6 maanden")
    pub fases: Vec<(u8, String)>,
    /// (id, naam, "van t/m")
    pub periodes: Vec<(String, String, String)>,
    pub periode: PeriodeInput,
    /// `gestart` or `voltooid`.
    pub maandtabel: String,
    pub maand_options: Vec<(String, String)>,
    pub errors: FormErrors,
    pub notice: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Q {
    opgeslagen: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BandsInput {
    fasegrenzen: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DlInput {
    maandtabel: String,
}

fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    fasegrenzen: Option<String>,
    periode: PeriodeInput,
    errors: FormErrors,
    notice: String,
) -> Result<SetupPage, WebError> {
    let school = scope.school.id;
    let bands = state.app.fase_bands(school).await?;
    let periodes = state.app.toetsperiodes(school).await?;
    let maandtabel = match state.app.month_table(school).await? {
        startblok_domain::norms::MonthTable::Completed => "voltooid",
        startblok_domain::norms::MonthTable::Started => "gestart",
    };
    Ok(SetupPage {
        maandtabel: maandtabel.into(),
        maand_options: vec![
            (
                "gestart".into(),
                "Een begonnen maand telt (standaard): september 1, januari 5, juni 10".into(),
            ),
            (
                "voltooid".into(),
                "Een voltooide maand telt: september 0, januari 4, juni 9".into(),
            ),
        ],
        chrome: Chrome::for_school(
            "School Setup",
            user,
            scope,
            &format!("{}/instellingen", base(scope)),
        )
        .with_errors(!errors.is_empty()),
        base: base(scope),
        fasegrenzen: fasegrenzen.unwrap_or_else(|| bands.to_text()),
        fases: bands.describe(),
        periodes: periodes
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    p.naam,
                    format!(
                        "{} tot en met {}",
                        format_date(p.van),
                        format_date(p.tot_en_met)
                    ),
                )
            })
            .collect(),
        periode,
        errors,
        notice,
    })
}

pub async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<Q>,
) -> Result<Response, WebError> {
    let notice = match q.opgeslagen.as_str() {
        "fases" => {
            "De fasegrenzen zijn opgeslagen. Alle resultaten zijn opnieuw beoordeeld in de fase van hun afnamedatum."
        }
        "periode" => "De toetsperiode is toegevoegd.",
        "dl" => "De manier van tellen voor de DL is opgeslagen.",
        "verwijderd" => "De toetsperiode is verwijderd.",
        _ => "",
    };
    let p = page(
        &state,
        &user,
        &scope,
        None,
        PeriodeInput::default(),
        FormErrors::default(),
        notice.into(),
    )
    .await?;
    Ok(render(&p)?.into_response())
}

pub async fn save_bands(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(input): Form<BandsInput>,
) -> Result<Response, WebError> {
    match state
        .app
        .save_fase_bands(scope.school.id, &input.fasegrenzen, &user.actor(&ip))
        .await?
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/instellingen/school?opgeslagen=fases",
            base(&scope)
        ))
        .into_response()),
        Err(errors) => {
            let p = page(
                &state,
                &user,
                &scope,
                Some(input.fasegrenzen),
                PeriodeInput::default(),
                errors,
                String::new(),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
    }
}

pub async fn save_dl(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(input): Form<DlInput>,
) -> Result<Response, WebError> {
    match state
        .app
        .save_month_table(scope.school.id, &input.maandtabel, &user.actor(&ip))
        .await?
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/instellingen/school?opgeslagen=dl",
            base(&scope)
        ))
        .into_response()),
        Err(errors) => {
            let p = page(
                &state,
                &user,
                &scope,
                None,
                PeriodeInput::default(),
                errors,
                String::new(),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
    }
}

pub async fn add_periode(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(input): Form<PeriodeInput>,
) -> Result<Response, WebError> {
    match state
        .app
        .add_toetsperiode(scope.school.id, &input, &user.actor(&ip))
        .await?
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/instellingen/school?opgeslagen=periode",
            base(&scope)
        ))
        .into_response()),
        Err(errors) => {
            let p = page(&state, &user, &scope, None, input, errors, String::new()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
    }
}

pub async fn remove_periode(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, periode)): Path<(String, String)>,
) -> Result<Response, WebError> {
    if !state
        .app
        .remove_toetsperiode(scope.school.id, &periode, &user.actor(&ip))
        .await?
    {
        return Err(WebError::NotFound);
    }
    Ok(Redirect::to(&format!(
        "{}/instellingen/school?opgeslagen=verwijderd",
        base(&scope)
    ))
    .into_response())
}
