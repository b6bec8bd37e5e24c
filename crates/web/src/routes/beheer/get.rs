use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{SchoolRow, SchoolsPage};
use crate::AppState;
use crate::access::CurrentUser;
use crate::chrome::Chrome;
use crate::error::{WebError, render};

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[day]-[month]-[year]");

pub async fn schools(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let all = state
        .app
        .all_schools()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let rows = all
        .into_iter()
        .map(|s| SchoolRow {
            member: user.0.schools.iter().any(|(m, _)| m.id == s.id),
            naam: s.naam,
            code: s.code.to_string(),
            aangemaakt: s.created_at.format(DATE).unwrap_or_default(),
        })
        .collect();
    let page = SchoolsPage {
        chrome: Chrome::for_user("Scholen", &user, "/beheer"),
        rows,
    };
    Ok(render(&page)?.into_response())
}
