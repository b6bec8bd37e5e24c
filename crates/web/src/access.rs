//! Access rules and the guard that enforces them before any handler runs.
//!
//! A request for another school's page, or for an operator page by a non-operator, answers 404:
//! the same as a page that does not exist, so nothing is revealed. A member of the school whose
//! role does not allow the page gets 403 with a friendly explanation.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http_body_util::BodyExt;
use startblok_app::Actor;
use startblok_app::auth::SessionUser;
use startblok_db::schools::School;
use startblok_domain::{Role, SchoolCode};

use crate::AppState;
use crate::error::WebError;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// A machine interface that authenticates each message itself (UWLR): no session is read
    /// and no CSRF token asked; the handler decides.
    Machine,
    /// Any logged-in user.
    LoggedIn,
    /// Operators of the instance; anyone else gets 404.
    Operator,
    /// Members of the school named by the `{school}` path segment who hold one of these roles.
    School(&'static [Role]),
}

pub const ALL_SCHOOL_ROLES: &[Role] = &[Role::Beheerder, Role::Leerkracht, Role::Ib];
pub const BEHEERDER: &[Role] = &[Role::Beheerder];
pub const BEHEERDER_IB: &[Role] = &[Role::Beheerder, Role::Ib];
/// Roles that may change pupils (a leerkracht only those of their own groups: checked by the use case).
pub const EDITORS: &[Role] = &[Role::Beheerder, Role::Leerkracht];

/// The logged-in user of this request (present on every non-public route).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

/// The school of this request and the user's roles there (present on every school route).
#[derive(Debug, Clone)]
pub struct SchoolScope {
    pub school: School,
    pub roles: Vec<Role>,
}

impl SchoolScope {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    /// The school code as it appears in URLs (`99ZZ-00`).
    pub fn code(&self) -> String {
        self.school.code.to_string()
    }
}

/// The client's address, for the audit log and throttling.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl CurrentUser {
    pub fn actor(&self, ip: &ClientIp) -> Actor {
        Actor::user(self.0.user.id, &self.0.user.email, ip.0.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(WebError::NotLoggedIn)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SchoolScope {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SchoolScope>()
            .cloned()
            .ok_or(WebError::NotFound)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "onbekend".into());
        Ok(ClientIp(ip))
    }
}

/// The logged-in user, if any, on public routes.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SessionUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(
            parts.extensions.get::<CurrentUser>().map(|c| c.0.clone()),
        ))
    }
}

/// The largest form body the guard reads to check the CSRF token.
const MAX_FORM_BYTES: usize = 256 * 1024;
/// The largest file upload (a school's pupil list as CSV or XLSX is far smaller).
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

/// The largest upload a path accepts: an EDEXML export of a large school is tens of megabytes,
/// every other upload is a small list.
fn upload_limit(path: &str) -> usize {
    if path.ends_with("/importeren") {
        crate::routes::IMPORT_BODY_LIMIT
    } else {
        MAX_UPLOAD_BYTES
    }
}
pub const CSRF_FIELD: &str = "_csrf";

/// Enforces one route's [`Access`] rule, loads the session and checks CSRF on state changes.
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    if access == Access::Machine {
        return next.run(req).await;
    }
    let token = state.cookies.token(req.headers());
    let user = match token {
        Some(t) => match state.app.session_user(&t).await {
            Ok(u) => u,
            Err(e) => return WebError::from(e).into_response(),
        },
        None => None,
    };

    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD);
    if state_changing && !same_origin(req.headers()) {
        return WebError::CrossSite.into_response();
    }

    match access {
        Access::Public | Access::Machine => {}
        Access::LoggedIn | Access::Operator | Access::School(_) => {
            let Some(u) = &user else {
                return login_redirect(&req);
            };
            if access == Access::Operator && !u.user.is_operator {
                return WebError::NotFound.into_response();
            }
            if let Access::School(allowed) = access {
                let (mut parts, body) = req.into_parts();
                let code = match RawPathParams::from_request_parts(&mut parts, &state).await {
                    Ok(params) => params
                        .iter()
                        .find(|(k, _)| *k == "school")
                        .and_then(|(_, v)| v.parse::<SchoolCode>().ok()),
                    Err(_) => None,
                };
                let Some(code) = code else {
                    return WebError::NotFound.into_response();
                };
                let Some((school, roles)) = u.schools.iter().find(|(s, _)| s.code == code) else {
                    return WebError::NotFound.into_response();
                };
                if !roles.iter().any(|r| allowed.contains(r)) {
                    return WebError::Forbidden.into_response();
                }
                parts.extensions.insert(SchoolScope {
                    school: school.clone(),
                    roles: roles.clone(),
                });
                req = Request::from_parts(parts, body);
            }
        }
    }

    if state_changing && access != Access::Public {
        let expected = user
            .as_ref()
            .map(|u| u.session.csrf_token.clone())
            .unwrap_or_default();
        let is_upload = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let path = req.uri().path().to_string();
        let limit = upload_limit(&path);
        match check_csrf(req, &expected, limit).await {
            Ok(r) => req = r,
            // A file that is too large: back to the upload form, which says so at the field.
            Err(WebError::TooLarge) if is_upload => {
                return Redirect::to(&format!("{path}?fout=te-groot")).into_response();
            }
            Err(e) => return e.into_response(),
        }
    }

    if let Some(u) = user {
        req.extensions_mut().insert(CurrentUser(u));
    }
    next.run(req).await
}

/// Browsers say where a request comes from; refuse state changes started by another site.
/// Fetch metadata decides when present. Without it, the `Origin` header must name our host. (With
/// `Referrer-Policy: no-referrer`, Chromium sends `Origin: null` on its own same-origin form
/// posts, so `Origin` alone cannot be trusted to be a real origin when `Sec-Fetch-Site` is there.)
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .map(|(_, h)| h == host)
            .unwrap_or(false),
        _ => true,
    }
}

/// Reads a form body (urlencoded, or multipart for file uploads) and compares its `_csrf`
/// field with the session's token. The body is handed on unchanged.
async fn check_csrf(
    req: Request,
    expected: &str,
    upload_limit: usize,
) -> Result<Request, WebError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let multipart_boundary = multer::parse_boundary(&content_type).ok();
    if !content_type.starts_with("application/x-www-form-urlencoded")
        && multipart_boundary.is_none()
    {
        return Err(WebError::CsrfMissing);
    }
    let limit = if multipart_boundary.is_some() {
        upload_limit
    } else {
        MAX_FORM_BYTES
    };
    // A body announced as too large is refused before a byte of it is read.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(WebError::TooLarge);
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Err(WebError::TooLarge),
    };
    let sent = match multipart_boundary {
        None => form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
        Some(boundary) => multipart_csrf(bytes.clone(), boundary).await,
    };
    if expected.is_empty() || !startblok_app::secrets::same_secret(&sent, expected) {
        return Err(WebError::CsrfMissing);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The `_csrf` field of a multipart body (our forms put it first).
async fn multipart_csrf(bytes: Bytes, boundary: String) -> String {
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(CSRF_FIELD) {
            return field.text().await.unwrap_or_default();
        }
    }
    String::new()
}

fn login_redirect(req: &Request) -> Response {
    let back = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    // Only local paths are remembered, never a full URL (no open redirect).
    let target = if req.method() == Method::GET && back.starts_with('/') && !back.starts_with("//")
    {
        format!(
            "/inloggen?terug={}",
            form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        )
    } else {
        "/inloggen".to_string()
    };
    Redirect::to(&target).into_response()
}

/// The use cases' view of "this user, acting in this school".
pub fn in_school(
    user: &CurrentUser,
    scope: &SchoolScope,
    ip: &ClientIp,
) -> startblok_app::pupils::InSchool {
    startblok_app::pupils::InSchool {
        school: scope.school.id,
        actor: user.actor(ip),
        roles: scope.roles.clone(),
    }
}
