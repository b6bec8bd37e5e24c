//! Routes that belong to no area: the root redirect, the health check, the 404 page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::access::CurrentUser;
use crate::error::WebError;

/// `/`: to the school the user works in, or the operator's pages.
pub async fn root(user: CurrentUser) -> Response {
    let u = user.0;
    let current = u
        .session
        .current_school_id
        .and_then(|id| u.schools.iter().find(|(s, _)| s.id == id))
        .or_else(|| u.schools.first());
    match current {
        Some((school, _)) => Redirect::to(&format!("/s/{}", school.code)).into_response(),
        None if u.user.is_operator => Redirect::to("/beheer").into_response(),
        None => Redirect::to("/account/scholen").into_response(),
    }
}

/// `/gezondheid`: 200 when the database answers, for load balancers and monitoring.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.app.db.conn().await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database niet bereikbaar").into_response(),
    }
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}
