//! The session cookie. It carries only a random token; the server keeps its hash.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

#[derive(Debug, Clone)]
pub struct CookieConfig {
    /// `__Host-startblok` when served over TLS (the prefix requires `Secure`), else `startblok`.
    pub name: &'static str,
    pub secure: bool,
}

impl CookieConfig {
    pub fn for_public_url(public_url: &str) -> Self {
        let secure = public_url.starts_with("https://");
        CookieConfig {
            name: if secure {
                "__Host-startblok"
            } else {
                "startblok"
            },
            secure,
        }
    }

    /// The `Set-Cookie` value that starts a session.
    pub fn set(&self, token: &str) -> String {
        format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
            self.name,
            token,
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that removes it.
    pub fn clear(&self) -> String {
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            self.name,
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The token in the request's cookies, if any.
    pub fn token(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == self.name)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty() && v.len() <= 128)
    }
}
