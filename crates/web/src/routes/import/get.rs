use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use startblok_app::edexml_import::{ImportState, ImportView};

use super::{PreviewPage, SHOWN, StatusKind, StatusPage, UploadPage};
use crate::AppState;
use crate::access::{CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

pub fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

pub async fn upload_page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    errors: FormErrors,
) -> Result<UploadPage, WebError> {
    let base = base(scope);
    Ok(UploadPage {
        chrome: Chrome::for_school("Importeren", user, scope, &format!("{base}/importeren"))
            .with_errors(!errors.is_empty()),
        base,
        errors,
        history: state.app.import_history(scope.school.id).await?,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    fout: String,
}

pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(q): Query<UploadQuery>,
) -> Result<Response, WebError> {
    let mut errors = FormErrors::default();
    if q.fout == "te-groot" {
        errors.add("bestand", UploadPage::TOO_LARGE);
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::PAYLOAD_TOO_LARGE
    };
    let page = upload_page(&state, &user, &scope, errors).await?;
    Ok((status, render(&page)?).into_response())
}

pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Path((_, import)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let view = state
        .app
        .import_view(scope.school.id, &import)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(render_view(&user, &scope, view, String::new())?.into_response())
}

/// The page for an import in whatever state it is: preview, progress or outcome.
pub fn render_view(
    user: &CurrentUser,
    scope: &SchoolScope,
    view: ImportView,
    notice: String,
) -> Result<axum::response::Html<String>, WebError> {
    let base = base(scope);
    let path = format!("{base}/importeren");
    let kind = match view.state.clone() {
        ImportState::Preview { plan, fingerprint } => {
            let page = PreviewPage {
                chrome: Chrome::for_school("Controleren en toepassen", user, scope, &path),
                base,
                view,
                plan: *plan,
                fingerprint,
                notice,
                shown: SHOWN,
            };
            return render(&page);
        }
        ImportState::Running { progress } => StatusKind::Running(progress),
        ImportState::CutOff => StatusKind::CutOff,
        ImportState::Applied { report } => StatusKind::Applied(report),
        ImportState::Failed { message } => StatusKind::Failed(message),
        ImportState::Expired => StatusKind::Expired,
    };
    let title = match kind {
        StatusKind::Running(_) => "Bezig met inlezen",
        StatusKind::Applied(_) => "Ingelezen",
        StatusKind::Failed(_) | StatusKind::CutOff => "Inlezen mislukt",
        StatusKind::Expired => "Voorvertoning vervallen",
    };
    render(&StatusPage {
        chrome: Chrome::for_school(title, user, scope, &path),
        base,
        view,
        kind,
    })
}
