//! `POST /uwlr/v2/leerresultaten`: the UWLR intake endpoint (uwlr-intake.md). A machine
//! interface: no session, no CSRF token; the message authenticates itself (its `autorisatie`
//! header), which the app checks. The answer is a SOAP 1.1 envelope: the bevestiging (200) only
//! after the delivery is committed, or a fault (500) with the contract's code.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use startblok_app::intake::IntakeFault;
use startblok_uwlr as uwlr;

use crate::AppState;

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn fault(f: &IntakeFault) -> Response {
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        uwlr::fault_envelope(f.code, &f.text),
    )
}

/// The SOAPAction header, if sent, must name this operation (quoted or not).
fn action_ok(headers: &HeaderMap) -> bool {
    match headers.get("soapaction").map(|v| v.to_str()) {
        None => true,
        Some(Ok(v)) => {
            let v = v.trim().trim_matches('"').trim();
            v.is_empty() || v == "BrengLeerresultaten" || v.ends_with("/BrengLeerresultaten")
        }
        Some(Err(_)) => false,
    }
}

pub async fn leerresultaten(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = state.app.settings.uwlr_body_limit;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let f = IntakeFault::te_groot(limit);
            tracing::warn!(foutcode = f.code, "UWLR-bericht geweigerd: te groot");
            return fault(&f);
        }
    };
    if !action_ok(&headers) {
        return fault(&IntakeFault {
            code: "Client.OngeldigBericht",
            text: "De SOAPAction hoort bij een andere operatie; dit adres ontvangt alleen \
                   BrengLeerresultaten."
                .into(),
        });
    }
    match state.app.receive_uwlr(&bytes).await {
        Ok(_) => soap(StatusCode::OK, uwlr::bevestiging()),
        Err(f) => fault(&f),
    }
}
