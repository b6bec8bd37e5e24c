use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use startblok_app::groups::GroupInput;
use startblok_domain::Role;

use super::{GroupFormPage, GroupsPage};
use crate::AppState;
use crate::access::{CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Notice {
    melding: String,
}

pub async fn overview(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let base = format!("/s/{}", scope.code());
    let page = GroupsPage {
        chrome: Chrome::for_school("Groepen & Team", &user, &scope, &format!("{base}/groepen")),
        team: state.app.team_overview(scope.school.id).await?,
        can_edit: scope.has(Role::Beheerder),
        notice: match q.melding.as_str() {
            "opgeslagen" => "De groep is opgeslagen.".into(),
            _ => String::new(),
        },
        base,
    };
    Ok(render(&page)?.into_response())
}

pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    let page = form_page(
        &state,
        &user,
        &scope,
        None,
        GroupInput::default(),
        true,
        FormErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let team = state.app.team_overview(scope.school.id).await?;
    let g = team
        .groups
        .into_iter()
        .find(|g| g.group.id == id)
        .ok_or(WebError::NotFound)?;
    let form = GroupInput {
        naam: g.group.naam.clone(),
        jaargroep: g.group.jaargroep.clone().unwrap_or_default(),
        actief: g.group.actief.then(|| "ja".to_string()),
        leerkrachten: g.teachers.iter().map(|t| t.user.id.to_string()).collect(),
    };
    let page = form_page(
        &state,
        &user,
        &scope,
        Some(&id),
        form,
        g.group.actief,
        FormErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

pub(super) async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    group: Option<&str>,
    form: GroupInput,
    actief: bool,
    errors: FormErrors,
) -> Result<GroupFormPage, WebError> {
    let base = format!("/s/{}", scope.code());
    let team = state.app.team_overview(scope.school.id).await?;
    let teachers = team
        .members
        .iter()
        .filter(|m| m.roles.contains(&Role::Leerkracht))
        .map(|m| (m.user.id.to_string(), m.user.naam.clone()))
        .collect();
    let (title, action) = match group {
        None => ("Groep toevoegen", format!("{base}/groepen/nieuw")),
        Some(id) => ("Groep wijzigen", format!("{base}/groepen/{id}")),
    };
    Ok(GroupFormPage {
        chrome: Chrome::for_school(title, user, scope, &format!("{base}/groepen/x"))
            .with_errors(!errors.is_empty()),
        base,
        action,
        is_new: group.is_none(),
        form,
        actief,
        teachers,
        errors,
    })
}
