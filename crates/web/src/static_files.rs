//! Static assets, embedded in the binary so a release is one file. The vendored design-system
//! files come from `assets/vendor.sh`; `startblok.css` and `startblok.js` are our own.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "vendor/utrecht-component-library.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/vendor/utrecht-component-library.css"),
    ),
    (
        "vendor/voorbeeld-theme.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/vendor/voorbeeld-theme.css"),
    ),
    (
        "vendor/htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/vendor/htmx.min.js"),
    ),
    (
        "startblok.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/startblok.css"),
    ),
    (
        "startblok.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/startblok.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../static/favicon.svg"),
    ),
];

pub async fn get(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "niet gevonden").into_response(),
    }
}
