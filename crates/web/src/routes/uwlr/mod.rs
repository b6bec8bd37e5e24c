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
    let app = &state.app;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    // A bounded number of messages in memory at once; the rest wait for a place a while.
    let Ok(Ok(_slot)) = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.uwlr_slots.clone().acquire_owned(),
    )
    .await
    else {
        let f = IntakeFault::druk();
        app.log_uwlr_refusal(&f, None, declared, "").await;
        return fault(&f);
    };
    let limit = app.settings.uwlr_body_limit;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let f = IntakeFault::te_groot(limit);
            app.log_uwlr_refusal(&f, None, declared.max(limit + 1), "")
                .await;
            return fault(&f);
        }
    };
    if !action_ok(&headers) {
        let f = IntakeFault {
            code: "Client.OngeldigBericht",
            text: "De SOAPAction hoort bij een andere operatie; dit adres ontvangt alleen \
                   BrengLeerresultaten."
                .into(),
        };
        let sha = startblok_app::edexml_import::sha256_hex(&bytes);
        app.log_uwlr_refusal(&f, None, bytes.len(), &sha).await;
        return fault(&f);
    }
    match state.app.receive_uwlr(&bytes).await {
        Ok(_) => soap(StatusCode::OK, uwlr::bevestiging()),
        Err(f) => fault(&f),
    }
}
