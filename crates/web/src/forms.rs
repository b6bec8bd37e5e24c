//! Form errors are shared with the use cases, which validate what people typed. Also the one
//! way an uploaded file is read from a multipart form.

use axum::extract::Multipart;

pub use startblok_app::forms::FormErrors;

use crate::error::WebError;

/// The file in the form's `bestand` field: (file name, bytes). `None` when no file was chosen
/// (no field, or an empty field without a name). A body over the route's limit is `TooLarge`.
pub async fn uploaded_file(
    multipart: &mut Multipart,
) -> Result<Option<(String, Vec<u8>)>, WebError> {
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| WebError::TooLarge)?
    {
        if field.name() == Some("bestand") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    Ok(file.filter(|(name, bytes): &(String, Vec<u8>)| !name.is_empty() || !bytes.is_empty()))
}

/// A CSV file to download: UTF-8, saved under `filename`.
pub fn csv_download(filename: &str, body: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
