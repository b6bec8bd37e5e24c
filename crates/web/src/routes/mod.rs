//! The route table: every path, its method, its access rule and its handler, in one list.
//! [`router`] builds the axum router from it and wraps each route in the guard for its rule,
//! and the tenancy test walks the same list, so a route without a rule cannot exist.

pub mod account;
pub mod auth;
pub mod beheer;
pub mod school;
pub mod system;

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use axum::{Router, middleware};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::access::{ALL_SCHOOL_ROLES, Access, BEHEERDER, guard};
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

/// Every route of the application. Add new routes here, with their rule.
pub fn table() -> Vec<RouteDef> {
    use Access::*;
    use Method as M;
    vec![
        r(M::GET, "/", LoggedIn, get(system::root)),
        r(M::GET, "/gezondheid", Public, get(system::health)),
        r(M::GET, "/static/{*path}", Public, get(static_files::get)),
        r(M::GET, "/inloggen", Public, get(auth::get::login_form)),
        r(M::POST, "/inloggen", Public, post(auth::post::login)),
        r(M::POST, "/uitloggen", LoggedIn, post(auth::post::logout)),
        r(
            M::GET,
            "/welkom/{token}",
            Public,
            get(auth::get::welcome_form),
        ),
        r(
            M::POST,
            "/welkom/{token}",
            Public,
            post(auth::post::welcome),
        ),
        r(
            M::GET,
            "/account/wachtwoord",
            LoggedIn,
            get(account::get::password_form),
        ),
        r(
            M::POST,
            "/account/wachtwoord",
            LoggedIn,
            post(account::post::change_password),
        ),
        r(
            M::GET,
            "/account/scholen",
            LoggedIn,
            get(account::get::schools),
        ),
        r(
            M::POST,
            "/account/scholen",
            LoggedIn,
            post(account::post::switch_school),
        ),
        r(
            M::GET,
            "/s/{school}",
            School(ALL_SCHOOL_ROLES),
            get(school::get::start),
        ),
        r(
            M::GET,
            "/s/{school}/instellingen",
            School(BEHEERDER),
            get(school::get::settings),
        ),
        r(
            M::GET,
            "/s/{school}/instellingen/gebruikers",
            School(BEHEERDER),
            get(school::get::users),
        ),
        r(M::GET, "/beheer", Operator, get(beheer::get::schools)),
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
        .layer(RequestBodyLimitLayer::new(2 * 1024 * 1024))
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
