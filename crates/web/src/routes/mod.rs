//! The route table: every path, its method, its access rule and its handler, in one list.
//! [`router`] builds the axum router from it and wraps each route in the guard for its rule,
//! and the tenancy test walks the same list, so a route without a rule cannot exist.

pub mod aanvragen;
pub mod account;
pub mod auth;
pub mod beheer;
pub mod groups;
pub mod import;
pub mod overzicht;
pub mod pupils;
pub mod school;
pub mod settings;
pub mod sleutel;
pub mod system;
pub mod uwlr;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use axum::{Router, middleware};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::access::{ALL_SCHOOL_ROLES, Access, BEHEERDER, BEHEERDER_IB, EDITORS, guard};
use crate::static_files;

pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn r(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> RouteDef {
    RouteDef {
        method,
        path,
        access,
        handler,
    }
}

/// The largest body of an EDEXML upload: the file plus multipart framing.
pub const IMPORT_BODY_LIMIT: usize = startblok_app::edexml_import::MAX_IMPORT_BYTES + 64 * 1024;

/// Every route of the application. Add new routes here, with their rule (one line each).
#[rustfmt::skip]
pub fn table() -> Vec<RouteDef> {
    use Access::*;
    use Method as M;
    vec![
        r(M::GET, "/", LoggedIn, get(system::root)),
        r(M::GET, "/gezondheid", Public, get(system::health)),
        r(M::POST, "/uwlr/v2/leerresultaten", Machine, post(uwlr::leerresultaten)),
        r(M::GET, "/static/{*path}", Public, get(static_files::get)),
        r(M::GET, "/inloggen", Public, get(auth::get::login_form)),
        r(M::POST, "/inloggen", Public, post(auth::post::login)),
        r(M::POST, "/uitloggen", LoggedIn, post(auth::post::logout)),
        r(M::GET, "/welkom/{token}", Public, get(auth::get::welcome_form)),
        r(M::POST, "/welkom/{token}", Public, post(auth::post::welcome)),
        r(M::GET, "/account/wachtwoord", LoggedIn, get(account::get::password_form)),
        r(M::POST, "/account/wachtwoord", LoggedIn, post(account::post::change_password)),
        r(M::GET, "/account/scholen", LoggedIn, get(account::get::schools)),
        r(M::POST, "/account/scholen", LoggedIn, post(account::post::switch_school)),
        r(M::GET, "/s/{school}", School(ALL_SCHOOL_ROLES), get(school::get::start)),
        r(M::GET, "/s/{school}/instellingen", School(BEHEERDER), get(school::get::settings)),
        r(M::GET, "/s/{school}/instellingen/gebruikers", School(BEHEERDER), get(school::get::users)),
        r(M::GET, "/s/{school}/instellingen/boomnummers", School(BEHEERDER), get(settings::get::boom)),
        r(M::POST, "/s/{school}/instellingen/boomnummers", School(BEHEERDER), post(settings::post::boom)),
        r(M::GET, "/s/{school}/instellingen/boomnummers/bestand", School(BEHEERDER), get(settings::boom_file::upload_form)),
        r(M::POST, "/s/{school}/instellingen/boomnummers/bestand", School(BEHEERDER), post(settings::boom_file::upload)),
        r(M::GET, "/s/{school}/instellingen/boomnummers/bestand/{upload}", School(BEHEERDER), get(settings::boom_file::mapping_or_preview)),
        r(M::POST, "/s/{school}/instellingen/boomnummers/bestand/{upload}", School(BEHEERDER), post(settings::boom_file::apply)),
        r(M::GET, "/s/{school}/instellingen/boom-testcentrum", School(BEHEERDER), get(settings::koppeling::page)),
        r(M::POST, "/s/{school}/instellingen/boom-testcentrum", School(BEHEERDER), post(settings::koppeling::act)),
        r(M::POST, "/s/{school}/instellingen/boom-testcentrum/fouten", School(BEHEERDER), post(settings::levering::fix)),
        r(M::GET, "/s/{school}/instellingen/boom-testcentrum/levering", School(BEHEERDER), get(settings::levering::show)),
        r(M::POST, "/s/{school}/instellingen/boom-testcentrum/levering", School(BEHEERDER), post(settings::levering::reprocess)),
        r(M::GET, "/s/{school}/instellingen/boom-testcentrum/intrekken", School(BEHEERDER), get(settings::koppeling::revoke_form)),
        r(M::POST, "/s/{school}/instellingen/boom-testcentrum/intrekken", School(BEHEERDER), post(settings::koppeling::revoke)),
        r(M::GET, "/s/{school}/instellingen/normen", School(BEHEERDER), get(settings::normen::show_page)),
        r(M::POST, "/s/{school}/instellingen/normen", School(BEHEERDER), post(settings::normen::import)),
        r(M::GET, "/s/{school}/instellingen/normen.csv", School(BEHEERDER), get(settings::normen::export)),
        r(M::POST, "/s/{school}/instellingen/normen/{toetsdoel}", School(BEHEERDER), post(settings::normen::save_grid)),
        r(M::GET, "/s/{school}/instellingen/school", School(BEHEERDER), get(settings::school_setup::show_page)),
        r(M::POST, "/s/{school}/instellingen/school", School(BEHEERDER), post(settings::school_setup::save_bands)),
        r(M::POST, "/s/{school}/instellingen/school/dl", School(BEHEERDER), post(settings::school_setup::save_dl)),
        r(M::POST, "/s/{school}/instellingen/school/periodes", School(BEHEERDER), post(settings::school_setup::add_periode)),
        r(M::POST, "/s/{school}/instellingen/school/periodes/{periode}/verwijderen", School(BEHEERDER), post(settings::school_setup::remove_periode)),
        r(M::GET, "/s/{school}/instellingen/toetsen", School(BEHEERDER), get(settings::toetsen::show_page)),
        r(M::POST, "/s/{school}/instellingen/toetsen", School(BEHEERDER), post(settings::toetsen::import)),
        r(M::GET, "/s/{school}/instellingen/toetsen/conversie.csv", School(BEHEERDER), get(settings::toetsen::export)),
        r(M::POST, "/s/{school}/instellingen/toetsen/lijst", School(BEHEERDER), post(settings::toetsen::import_lijst)),
        r(M::POST, "/s/{school}/instellingen/toetsen/vak", School(BEHEERDER), post(settings::toetsen::add_vak)),
        r(M::GET, "/s/{school}/instellingen/toetsen/toetsen.csv", School(BEHEERDER), get(settings::toetsen::export_lijst)),
        r(M::GET, "/s/{school}/instellingen/toetsdoelen", School(BEHEERDER), get(settings::get::toetsdoelen)),
        r(M::POST, "/s/{school}/instellingen/toetsdoelen", School(BEHEERDER), post(settings::post::add_toetsdoel)),
        r(M::GET, "/s/{school}/instellingen/toetsdoelen/{toetsdoel}", School(BEHEERDER), get(settings::get::toetsdoel)),
        r(M::POST, "/s/{school}/instellingen/toetsdoelen/{toetsdoel}", School(BEHEERDER), post(settings::post::edit_toetsdoel)),
        r(M::GET, "/s/{school}/leerlingen", School(ALL_SCHOOL_ROLES), get(pupils::get::list)),
        r(M::GET, "/s/{school}/leerlingen/nieuw", School(BEHEERDER), get(pupils::get::new_form)),
        r(M::POST, "/s/{school}/leerlingen/nieuw", School(BEHEERDER), post(pupils::post::create)),
        r(M::GET, "/s/{school}/leerlingen/{leerling}", School(ALL_SCHOOL_ROLES), get(pupils::get::card)),
        r(M::GET, "/s/{school}/leerlingen/{leerling}/basis", School(ALL_SCHOOL_ROLES), get(pupils::get::basis)),
        r(M::POST, "/s/{school}/leerlingen/{leerling}/basis", School(EDITORS), post(pupils::post::basis)),
        r(M::POST, "/s/{school}/leerlingen/{leerling}/fase", School(EDITORS), post(pupils::post::add_fase)),
        r(M::GET, "/s/{school}/leerlingen/{leerling}/resultaten", School(ALL_SCHOOL_ROLES), get(pupils::results::show)),
        r(M::POST, "/s/{school}/leerlingen/{leerling}/resultaten", School(EDITORS), post(pupils::results::add)),
        r(M::GET, "/s/{school}/leerlingen/{leerling}/resultaten/{resultaat}/verwijderen", School(EDITORS), get(pupils::results::remove_form)),
        r(M::POST, "/s/{school}/leerlingen/{leerling}/resultaten/{resultaat}/verwijderen", School(EDITORS), post(pupils::results::remove)),
        r(M::GET, "/s/{school}/leerlingen/{leerling}/uitschrijven", School(BEHEERDER), get(pupils::get::leave_form)),
        r(M::POST, "/s/{school}/leerlingen/{leerling}/uitschrijven", School(BEHEERDER), post(pupils::post::leave)),
        r(M::GET, "/s/{school}/overzicht", School(ALL_SCHOOL_ROLES), get(overzicht::page)),
        r(M::GET, "/s/{school}/overzicht.csv", School(ALL_SCHOOL_ROLES), get(overzicht::csv)),
        r(M::GET, "/s/{school}/groepen", School(BEHEERDER_IB), get(groups::get::overview)),
        r(M::GET, "/s/{school}/groepen/nieuw", School(BEHEERDER), get(groups::get::new_form)),
        r(M::POST, "/s/{school}/groepen/nieuw", School(BEHEERDER), post(groups::post::create)),
        r(M::GET, "/s/{school}/groepen/{groep}", School(BEHEERDER), get(groups::get::edit_form)),
        r(M::POST, "/s/{school}/groepen/{groep}", School(BEHEERDER), post(groups::post::update)),
        r(M::GET, "/s/{school}/importeren", School(BEHEERDER), get(import::get::start)),
        r(M::POST, "/s/{school}/importeren", School(BEHEERDER), post(import::post::upload).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT))),
        r(M::GET, "/s/{school}/importeren/{import}", School(BEHEERDER), get(import::get::import)),
        r(M::POST, "/s/{school}/importeren/{import}", School(BEHEERDER), post(import::post::decide)),
        r(M::GET, "/beheer", Operator, get(beheer::get::schools)),
        r(M::GET, "/beheer/aanvragen", Operator, get(beheer::get::aanvragen)),
        r(M::GET, "/beheer/aanvragen/{aanvraag}", Operator, get(beheer::get::aanvraag)),
        r(M::POST, "/beheer/aanvragen/{aanvraag}", Operator, post(beheer::post::decide)),
        r(M::GET, "/beheer/applicaties", Operator, get(beheer::get::applicaties)),
        r(M::GET, "/beheer/applicaties/{applicatie}", Operator, get(beheer::get::applicatie)),
        r(M::POST, "/beheer/applicaties/{applicatie}", Operator, post(beheer::post::save_applicatie)),
        r(M::GET, "/beheer/e-mail", Operator, get(beheer::get::mail)),
        r(M::GET, "/koppeling-aanvragen", Public, get(aanvragen::get::form)),
        r(M::POST, "/koppeling-aanvragen", Public, post(aanvragen::post::submit)),
        r(M::GET, "/koppeling-aanvragen/ontvangen", Public, get(aanvragen::get::received)),
        r(M::GET, "/wachtwoord-vergeten", Public, get(auth::get::forgot_form)),
        r(M::POST, "/wachtwoord-vergeten", Public, post(auth::post::forgot)),
        r(M::GET, "/sleutel/{token}", LoggedIn, get(sleutel::get::link)),
        r(M::POST, "/sleutel/{token}", LoggedIn, post(sleutel::post::redeem)),
    ]
}

/// The public description of the table (without handlers), for tests and tools.
pub fn rules() -> Vec<(Method, &'static str, Access)> {
    table()
        .into_iter()
        .map(|d| (d.method, d.path, d.access))
        .collect()
}

pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for def in table() {
        let guarded = def.handler.route_layer(middleware::from_fn_with_state(
            (state.clone(), def.access),
            guard,
        ));
        router = router.route(def.path, guarded);
    }
    let mut router = router
        .fallback(system::not_found)
        .with_state(state)
        // Above the largest upload the guard accepts (an EDEXML file plus multipart framing), so
        // that the guard answers an oversized upload in Dutch; anything larger still gets a Dutch
        // page. Each route's own limit (the guard's, axum's DefaultBodyLimit) is lower.
        .layer(RequestBodyLimitLayer::new(IMPORT_BODY_LIMIT + 1024 * 1024))
        .layer(axum::middleware::from_fn(dutch_payload_too_large))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(
            // Log the route pattern, not the path: paths of one-time links hold tokens.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_else(|| "(onbekend)".into());
                tracing::info_span!("request", method = %req.method(), route = %route)
            }),
        );
    for layer in crate::headers::layers() {
        router = router.layer(layer);
    }
    router
}

/// The body limit layer answers 413 in plain English text, before any route sees the request.
/// (Also: any other plain-text refusal of an extractor becomes a Dutch page.)
/// An upload form gets the form back with the message at the file field (as the guard does for
/// a file a little over the route's limit); anything else gets the Dutch page.
async fn dutch_payload_too_large(
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let upload = req.method() == axum::http::Method::POST
        && req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let plain = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if res.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && plain {
        if upload {
            return axum::response::Redirect::to(&format!("{path}?fout=te-groot")).into_response();
        }
        return crate::error::WebError::TooLarge.into_response();
    }
    // Extractors refuse what they cannot read in plain English text (a form field twice, a body
    // of the wrong kind); people get a Dutch page. The app's own answers are HTML.
    if res.status().is_client_error() && plain {
        return crate::error::WebError::BadRequest.into_response();
    }
    res
}
