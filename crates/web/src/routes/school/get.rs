use axum::extract::State;
use axum::response::{IntoResponse, Response};
use startblok_domain::Role;

use super::{SettingsPage, StartPage, UserRow, UsersPage};
use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chrome::Chrome;
use crate::error::{WebError, render};

pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
) -> Result<Response, WebError> {
    let base = format!("/s/{}", scope.code());
    // What this user sees: their groups (a leerkracht) or all (beheerder, ib'er).
    let list = state
        .app
        .pupil_list(
            &in_school(&user, &scope, &ip),
            &startblok_app::pupils::PupilFilter::default(),
        )
        .await?;
    let groups = list
        .groups
        .iter()
        .filter(|g| g.actief)
        .map(|g| {
            let n = list
                .rows
                .iter()
                .filter(|r| r.pupil.group_id.as_deref() == Some(g.id.as_str()))
                .count();
            (g.id.clone(), g.naam.clone(), n)
        })
        .collect();
    let voornaam = user
        .0
        .user
        .naam
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let (boom_fouten, laatste_levering) = if scope.has(Role::Beheerder) {
        let s = state.app.intake_summary(scope.school.id).await?;
        (s.0, s.1.map(startblok_domain::format_moment))
    } else {
        (0, None)
    };
    let page = StartPage {
        boom_fouten,
        laatste_levering,
        chrome: Chrome::for_school("Start", &user, &scope, &base),
        voornaam,
        school: scope.school.naam.clone(),
        is_beheerder: scope.has(Role::Beheerder),
        is_leerkracht: scope.has(Role::Leerkracht),
        is_ib: scope.has(Role::Ib),
        several_schools: user.0.schools.len() > 1,
        base,
        groups,
        pupils: list.total_visible,
    };
    Ok(render(&page)?.into_response())
}

pub async fn settings(user: CurrentUser, scope: SchoolScope) -> Result<Response, WebError> {
    let base = format!("/s/{}", scope.code());
    let page = SettingsPage {
        chrome: Chrome::for_school(
            "Instellingen",
            &user,
            &scope,
            &format!("{base}/instellingen"),
        ),
        base,
    };
    Ok(render(&page)?.into_response())
}

pub async fn users(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
) -> Result<Response, WebError> {
    let team = state
        .app
        .team(scope.school.id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let invited = state
        .app
        .invited(scope.school.id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let rows = team
        .into_iter()
        .map(|m| {
            let (status, status_class) = if m.user.disabled {
                ("Geblokkeerd", "utrecht-status-badge--inactive")
            } else if m.user.password_hash.is_none() && invited.contains(&m.user.id) {
                ("Uitgenodigd", "utrecht-status-badge--warning")
            } else if m.user.password_hash.is_none() {
                // From the LAS export, not invited yet.
                ("Nog geen toegang", "utrecht-status-badge--neutral")
            } else {
                ("Actief", "utrecht-status-badge--active")
            };
            UserRow {
                naam: m.user.naam,
                email: m.user.email,
                roles: m
                    .roles
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                status,
                status_class,
            }
        })
        .collect();
    let path = format!("/s/{}/instellingen/gebruikers", scope.code());
    let page = UsersPage {
        chrome: Chrome::for_school("Gebruikers", &user, &scope, &path),
        school: scope.school.naam.clone(),
        rows,
    };
    Ok(render(&page)?.into_response())
}
