use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::pupils::{BasisInput, PupilFilter};
use startblok_domain::{Role, today_nl};

use super::{BasisPage, FaseForm, LeavePage, ListPage, NewPage, Options};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    groep: String,
    zoek: String,
    zonder: String,
    status: String,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let filter = PupilFilter {
        groep: q.groep.clone(),
        zonder_boom: q.zonder == "boom",
        zonder_toetsdoel: q.zonder == "toetsdoel",
        zoek: q.zoek.chars().take(100).collect(),
        uitgeschreven: q.status == "uitgeschreven",
    };
    let list = state.app.pupil_list(&who, &filter).await?;
    let mut group_options = vec![(String::new(), "Alle groepen".to_string())];
    group_options.extend(list.groups.iter().map(|g| (g.id.clone(), g.naam.clone())));
    let base = format!("/s/{}", scope.code());
    let page = ListPage {
        chrome: Chrome::for_school("Leerlingen", &user, &scope, &format!("{base}/leerlingen")),
        can_add: scope.has(Role::Beheerder),
        base,
        list,
        filter,
        group_options,
    };
    Ok(render(&page)?.into_response())
}

/// The Leerlingkaart opens on its first tab.
pub async fn card(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
) -> Result<Response, WebError> {
    if !state
        .app
        .pupil_visible(&in_school(&user, &scope, &ip), &pupil)
        .await?
    {
        return Err(WebError::NotFound);
    }
    Ok(Redirect::to(&format!("/s/{}/leerlingen/{pupil}/basis", scope.code())).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Saved {
    opgeslagen: Option<String>,
}

pub async fn basis(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
    Query(q): Query<Saved>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let Some(card) = state.app.pupil_card(&who, &pupil).await? else {
        return Err(WebError::NotFound);
    };
    let form = BasisInput::from_pupil(&card.pupil, today_nl(startblok_app::now()));
    Ok(render(&basis_page(
        &user,
        &scope,
        card,
        form,
        FormErrors::default(),
        q.opgeslagen.is_some(),
        FaseForm::default(),
    ))?
    .into_response())
}

pub(super) fn basis_page(
    user: &CurrentUser,
    scope: &SchoolScope,
    card: startblok_app::pupils::Card,
    form: BasisInput,
    errors: FormErrors,
    saved: bool,
    fase_form: FaseForm,
) -> BasisPage {
    let base = format!("/s/{}", scope.code());
    let options = Options::new(
        &card.groups,
        &card.toetsdoelen,
        card.pupil.toetsdoel_id.as_deref(),
    );
    let can_leave =
        scope.has(startblok_domain::Role::Beheerder) && card.pupil.uitgeschreven_op.is_none();
    BasisPage {
        can_leave,
        groep_naam: card
            .groep
            .as_ref()
            .map(|g| g.naam.clone())
            .unwrap_or_default(),
        toetsdoel_naam: card
            .toetsdoel
            .as_ref()
            .map(|t| format!("{} – {}", t.code, t.naam))
            .unwrap_or_default(),
        chrome: Chrome::for_school(
            &card.pupil.display_name(),
            user,
            scope,
            &format!("{base}/leerlingen/x"),
        )
        .with_errors(!errors.is_empty()),
        base,
        card,
        form,
        errors,
        saved,
        fase_form,
        options,
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    Ok(render(
        &new_page(
            &state,
            &user,
            &scope,
            BasisInput::default(),
            FormErrors::default(),
        )
        .await?,
    )?
    .into_response())
}

pub(super) async fn new_page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    form: BasisInput,
    errors: FormErrors,
) -> Result<NewPage, WebError> {
    let team = state.app.team_overview(scope.school.id).await?;
    let groups: Vec<_> = team.groups.into_iter().map(|g| g.group).collect();
    let doelen = state.app.toetsdoelen(scope.school.id).await?;
    let base = format!("/s/{}", scope.code());
    Ok(NewPage {
        chrome: Chrome::for_school(
            "Leerling toevoegen",
            user,
            scope,
            &format!("{base}/leerlingen/nieuw"),
        )
        .with_errors(!errors.is_empty()),
        options: Options::new(&groups, &doelen, None),
        base,
        form,
        errors,
    })
}

pub async fn leave_form(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, pupil)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let who = in_school(&user, &scope, &ip);
    let Some(card) = state.app.pupil_card(&who, &pupil).await? else {
        return Err(WebError::NotFound);
    };
    Ok(render(&leave_page(
        &user,
        &scope,
        &card.pupil,
        startblok_domain::format_date(today_nl(startblok_app::now())),
        FormErrors::default(),
    ))?
    .into_response())
}

pub(super) fn leave_page(
    user: &CurrentUser,
    scope: &SchoolScope,
    pupil: &startblok_db::pupils::Pupil,
    datum: String,
    errors: FormErrors,
) -> LeavePage {
    let base = format!("/s/{}", scope.code());
    LeavePage {
        chrome: Chrome::for_school(
            "Leerling uitschrijven",
            user,
            scope,
            &format!("{base}/leerlingen/x"),
        )
        .with_errors(!errors.is_empty()),
        pupil_url: format!("{base}/leerlingen/{}/basis", pupil.id),
        action: format!("{base}/leerlingen/{}/uitschrijven", pupil.id),
        naam: pupil.display_name(),
        base,
        datum,
        errors,
    }
}
