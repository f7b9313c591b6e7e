//! Server-side plumbing for server functions (feature `ssr` only): the services from context,
//! the caller (and its capabilities) from the request the auth middleware already resolved,
//! cookies, statuses, and the page's Content-Security-Policy.

use crate::error::UiError;
use da_domain::{Admin, AuthState, ClientInfo, Interactive, Principal, Services};
use da_types::{ApiError, TokenResponse};
use http::header::{CONTENT_SECURITY_POLICY, SET_COOKIE};
use http::{HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// Provided by the server to every page render and server function call.
#[derive(Clone)]
pub struct ServerContext {
    pub services: Services,
    /// Cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
}

pub fn context() -> Result<ServerContext, UiError> {
    use_context::<ServerContext>().ok_or_else(|| UiError::new("Server context missing"))
}

fn request_parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The signed-in caller, or the contract's 401 reason, marked so the browser signs in again.
pub fn caller() -> Result<Principal, UiError> {
    let auth = request_parts().and_then(|parts| parts.extensions.get::<AuthState>().cloned());
    let why = match auth {
        Some(AuthState::Authenticated(principal)) => return Ok(principal),
        Some(AuthState::Refused(why)) => why,
        _ => da_types::detail::AuthFailure::MissingCredential,
    };
    let mut error = fail(da_domain::Error::Unauthenticated(why));
    // Only a server-function call sends the browser to sign in; a page render never reaches
    // here without a credential (the middleware redirects it), and public pages must not.
    error.signed_out = request_parts().is_some_and(|parts| parts.uri.path().starts_with("/rpc/"));
    Err(error)
}

/// The caller as an admin, or the 401/403 the policy gives.
pub fn admin() -> Result<Admin, UiError> {
    da_domain::require_admin(&caller()?).map_err(fail)
}

/// The caller's interactive session, or the 401/403 the policy gives.
pub fn interactive() -> Result<Interactive, UiError> {
    da_domain::require_session(&caller()?).map_err(fail)
}

/// The signed-in caller, if any: for public pages, which must not answer 401 to visitors.
pub fn signed_in() -> Option<Principal> {
    match request_parts()?.extensions.get::<AuthState>()? {
        AuthState::Authenticated(principal) => Some(principal.clone()),
        _ => None,
    }
}

/// An id from the UI; a malformed one names nothing (404 with `not_found`).
pub fn id(raw: &str, not_found: &str) -> Result<uuid::Uuid, UiError> {
    da_domain::params::parse_id(raw, not_found).map_err(fail)
}

pub fn client() -> ClientInfo {
    request_parts()
        .and_then(|parts| parts.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

/// Turns a domain error into what the UI shows (through the one conversion that logs causes),
/// and gives the RPC response its real status.
pub fn fail(err: da_domain::Error) -> UiError {
    let api: ApiError = err.into_api();
    if let (Some(response), Ok(status)) = (
        use_context::<ResponseOptions>(),
        StatusCode::from_u16(api.code.status()),
    ) {
        response.set_status(status);
    }
    UiError::new(api.detail)
}

pub fn set_session_cookie(ctx: &ServerContext, token: &TokenResponse) {
    set_cookie(&da_types::cookie::login_cookie(
        token,
        chrono::Utc::now(),
        ctx.secure_cookies,
    ));
}

pub fn clear_session_cookie(ctx: &ServerContext) {
    set_cookie(&da_types::cookie::clear_session_cookie(ctx.secure_cookies));
}

fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}

/// The one Content-Security-Policy of every HTML response: with the page's script nonce when
/// it has inline hydration scripts, without one for the HTML the server makes itself.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Sets the policy for this page render, allowing exactly its inline scripts (by nonce).
pub fn set_content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let policy = content_security_policy(Some(&nonce.to_string()));
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&policy),
    ) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_differs_only_by_the_nonce() {
        let with = content_security_policy(Some("abc"));
        let without = content_security_policy(None);
        assert_eq!(with.replace(" 'nonce-abc'", ""), without);
        assert!(!without.contains("unsafe-inline"));
    }
}
