//! Instellingen > Boom nummers > Uit een bestand: upload, map the columns, preview, apply.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use startblok_app::App;
use startblok_app::boom_file::{KeyKind, Preview, RowStatus, guess_mapping};

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope, in_school};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::forms::FormErrors;

#[derive(Template)]
#[template(path = "boom_upload.html")]
pub struct UploadPage {
    pub chrome: Chrome,
    pub base: String,
    pub errors: FormErrors,
}

impl UploadPage {
    /// Said at the file field when the file is too large (by the server, and before sending by
    /// the page's script).
    pub const TOO_LARGE: &str = "Het bestand is groter dan 2 MB. Een lijst met Boom-leerlingnummers is veel kleiner: sla alleen die lijst op, bij voorkeur als CSV.";
    pub const MAX_BYTES: usize = crate::access::MAX_UPLOAD_BYTES;
}

#[derive(Template)]
#[template(path = "boom_mapping.html")]
pub struct MappingPage {
    pub chrome: Chrome,
    pub base: String,
    pub upload: String,
    pub file_name: String,
    pub columns: Vec<(String, String)>,
    pub sample: Vec<Vec<String>>,
    pub headers: Vec<String>,
    pub form: MappingForm,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "boom_preview.html")]
pub struct PreviewPage {
    pub chrome: Chrome,
    pub base: String,
    pub upload: String,
    pub form: MappingForm,
    pub preview: Preview,
    pub errors: FormErrors,
    pub confirmed: Vec<usize>,
    pub first_time: bool,
}

impl PreviewPage {
    pub fn status_label(s: &RowStatus) -> String {
        match s {
            RowStatus::New => "Nieuw nummer".into(),
            RowStatus::Unchanged => "Heeft dit nummer al".into(),
            RowStatus::Overwrite { old } => format!("Vervangt {old}"),
            RowStatus::Ambiguous { count } => format!("Past bij {count} leerlingen"),
            RowStatus::NotFound => "Leerling niet gevonden".into(),
            RowStatus::Invalid { reason } => reason.clone(),
            RowStatus::DuplicateInFile => "Staat vaker in het bestand".into(),
        }
    }
    pub fn status_class(s: &RowStatus) -> &'static str {
        match s {
            RowStatus::New => "utrecht-status-badge--success",
            RowStatus::Unchanged => "utrecht-status-badge--neutral",
            RowStatus::Overwrite { .. } => "utrecht-status-badge--warning",
            _ => "utrecht-status-badge--error",
        }
    }
    /// How many rows end in each kind of outcome (only the kinds that occur).
    pub fn counts(&self) -> Vec<(usize, &'static str)> {
        let p = &self.preview;
        [
            (p.count(|s| matches!(s, RowStatus::New)), "nieuw nummer"),
            (
                p.count(|s| matches!(s, RowStatus::Overwrite { .. })),
                "vervangt een nummer",
            ),
            (p.count(|s| matches!(s, RowStatus::Unchanged)), "al goed"),
            (
                p.count(|s| matches!(s, RowStatus::Ambiguous { .. })),
                "past bij meer leerlingen",
            ),
            (
                p.count(|s| matches!(s, RowStatus::NotFound)),
                "leerling niet gevonden",
            ),
            (
                p.count(|s| matches!(s, RowStatus::Invalid { .. } | RowStatus::DuplicateInFile)),
                "onbruikbaar",
            ),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }

    /// New numbers are proposed; overwriting a number needs a deliberate tick.
    pub fn is_checked(&self, line: &usize, status: &RowStatus) -> bool {
        if self.first_time {
            matches!(status, RowStatus::New)
        } else {
            self.confirmed.contains(line)
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct MappingForm {
    pub boom: String,
    pub sleutel: String,
    pub sleutelkolom: String,
    pub geboortekolom: String,
}

fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

fn upload_page(user: &CurrentUser, scope: &SchoolScope, errors: FormErrors) -> UploadPage {
    let base = base(scope);
    UploadPage {
        chrome: Chrome::for_school(
            "Boom nummers uit een bestand",
            user,
            scope,
            &format!("{base}/instellingen/boomnummers"),
        )
        .with_errors(!errors.is_empty()),
        base,
        errors,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    fout: String,
}

pub async fn upload_form(
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
    Ok((status, render(&upload_page(&user, &scope, errors))?).into_response())
}

pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let file = crate::forms::uploaded_file(&mut multipart).await?;
    let mut errors = FormErrors::default();
    match file {
        Some((name, bytes)) => {
            let who = in_school(&user, &scope, &ip);
            match state.app.upload_boom_file(&who, &name, &bytes).await? {
                Ok(id) => {
                    return Ok(Redirect::to(&format!(
                        "{}/instellingen/boomnummers/bestand/{id}",
                        base(&scope)
                    ))
                    .into_response());
                }
                Err(e) => errors.add("bestand", e.to_string()),
            }
        }
        _ => errors.add("bestand", "Kies een bestand."),
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&upload_page(&user, &scope, errors))?,
    )
        .into_response())
}

/// The mapping form, or with a complete mapping in the query, the preview.
pub async fn mapping_or_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Path((_, upload)): Path<(String, String)>,
    Query(form): Query<MappingForm>,
) -> Result<Response, WebError> {
    let Some((file_name, table)) = state.app.boom_upload(scope.school.id, &upload).await? else {
        return Err(WebError::NotFound);
    };
    let asked = !form.boom.is_empty() || !form.sleutel.is_empty();
    if asked {
        match App::check_mapping(
            &table,
            &form.boom,
            &form.sleutel,
            &form.sleutelkolom,
            &form.geboortekolom,
        ) {
            Ok(mapping) => {
                let preview = state
                    .app
                    .boom_preview(scope.school.id, &upload, &mapping)
                    .await?
                    .ok_or(WebError::NotFound)?;
                let page = preview_page(
                    &user,
                    &scope,
                    upload,
                    form,
                    preview,
                    FormErrors::default(),
                    vec![],
                    true,
                );
                return Ok(render(&page)?.into_response());
            }
            Err(errors) => {
                let page = mapping_page(&user, &scope, upload, file_name, &table, form, errors);
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
            }
        }
    }
    let (boom, key, key_col, dob) = guess_mapping(&table.headers);
    let guessed = MappingForm {
        boom: boom.map(|i| i.to_string()).unwrap_or_default(),
        sleutel: key.as_str().to_string(),
        sleutelkolom: key_col.map(|i| i.to_string()).unwrap_or_default(),
        geboortekolom: dob.map(|i| i.to_string()).unwrap_or_default(),
    };
    let page = mapping_page(
        &user,
        &scope,
        upload,
        file_name,
        &table,
        guessed,
        FormErrors::default(),
    );
    Ok(render(&page)?.into_response())
}

fn mapping_page(
    user: &CurrentUser,
    scope: &SchoolScope,
    upload: String,
    file_name: String,
    table: &startblok_app::spreadsheet::Table,
    form: MappingForm,
    errors: FormErrors,
) -> MappingPage {
    let base = base(scope);
    let mut columns = vec![(String::new(), "Kies een kolom…".to_string())];
    columns.extend(
        table
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| (i.to_string(), h.clone())),
    );
    MappingPage {
        chrome: Chrome::for_school(
            "Kolommen kiezen",
            user,
            scope,
            &format!("{base}/instellingen/boomnummers"),
        )
        .with_errors(!errors.is_empty()),
        base,
        upload,
        file_name,
        columns,
        sample: table.rows.iter().take(3).cloned().collect(),
        headers: table.headers.clone(),
        form,
        errors,
    }
}

#[allow(clippy::too_many_arguments)]
fn preview_page(
    user: &CurrentUser,
    scope: &SchoolScope,
    upload: String,
    form: MappingForm,
    preview: Preview,
    errors: FormErrors,
    confirmed: Vec<usize>,
    first_time: bool,
) -> PreviewPage {
    let base = base(scope);
    PreviewPage {
        chrome: Chrome::for_school(
            "Controleren en toepassen",
            user,
            scope,
            &format!("{base}/instellingen/boomnummers"),
        )
        .with_errors(!errors.is_empty()),
        base,
        upload,
        form,
        preview,
        errors,
        confirmed,
        first_time,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ApplyForm {
    boom: String,
    sleutel: String,
    sleutelkolom: String,
    geboortekolom: String,
    regel: Vec<usize>,
}

pub async fn apply(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Path((_, upload)): Path<(String, String)>,
    Form(input): Form<ApplyForm>,
) -> Result<Response, WebError> {
    let Some((_, table)) = state.app.boom_upload(scope.school.id, &upload).await? else {
        return Err(WebError::NotFound);
    };
    // A post without a usable mapping (it did not come from the preview): back to choosing columns.
    let Ok(mapping) = App::check_mapping(
        &table,
        &input.boom,
        &input.sleutel,
        &input.sleutelkolom,
        &input.geboortekolom,
    ) else {
        return Ok(Redirect::to(&format!(
            "{}/instellingen/boomnummers/bestand/{upload}",
            base(&scope)
        ))
        .into_response());
    };
    let form = MappingForm {
        boom: input.boom,
        sleutel: input.sleutel,
        sleutelkolom: input.sleutelkolom,
        geboortekolom: input.geboortekolom,
    };
    let who = in_school(&user, &scope, &ip);
    let mut errors = FormErrors::default();
    if input.regel.is_empty() {
        errors.add("regels", "Vink minstens één regel aan om toe te passen.");
    } else {
        match state
            .app
            .apply_boom_file(&who, &upload, &mapping, &input.regel)
            .await?
        {
            None => return Err(WebError::NotFound),
            Some(Ok(n)) => {
                return Ok(Redirect::to(&format!(
                    "{}/instellingen/boomnummers?opgeslagen={n}",
                    base(&scope)
                ))
                .into_response());
            }
            Some(Err(refused)) => {
                for (line, msg) in refused {
                    errors.add(format!("regel-{line}"), format!("Regel {line}: {msg}"));
                }
            }
        }
    }
    let preview = state
        .app
        .boom_preview(scope.school.id, &upload, &mapping)
        .await?
        .ok_or(WebError::NotFound)?;
    let page = preview_page(
        &user,
        &scope,
        upload,
        form,
        preview,
        errors,
        input.regel,
        false,
    );
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// Which key kinds the mapping form offers.
pub const KEY_KINDS: [(KeyKind, &str); 3] = [
    (
        KeyKind::LasKey,
        "LAS-sleutel (leerlingnummer uit de leerlingadministratie)",
    ),
    (KeyKind::EckId, "ECK-iD"),
    (KeyKind::NameAndBirthDate, "Achternaam en geboortedatum"),
];
