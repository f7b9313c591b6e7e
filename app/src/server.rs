//! Server-side plumbing for server functions (feature `ssr` only): the services from context,
//! the caller from the request the auth middleware already resolved, cookies and statuses.

use crate::api::UiError;
use da_domain::{AuthState, ClientInfo, Principal, Services};
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
    use_context::<ServerContext>().ok_or_else(|| UiError {
        detail: "Server context missing".into(),
    })
}

fn request_parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The signed-in caller, or the contract's 401 reason.
pub fn caller() -> Result<Principal, UiError> {
    let auth = request_parts().and_then(|parts| parts.extensions.get::<AuthState>().cloned());
    match auth {
        Some(AuthState::Authenticated(principal)) => Ok(principal),
        Some(AuthState::Refused(detail)) => Err(reject(ApiError::new(
            da_types::ErrorCode::Unauthenticated,
            detail,
        ))),
        _ => Err(reject(ApiError::new(
            da_types::ErrorCode::Unauthenticated,
            da_types::detail::MISSING_CREDENTIAL,
        ))),
    }
}

/// The signed-in caller, if any: for public pages, which must not answer 401 to visitors.
pub fn signed_in() -> Option<Principal> {
    match request_parts()?.extensions.get::<AuthState>()? {
        AuthState::Authenticated(principal) => Some(principal.clone()),
        _ => None,
    }
}

/// A user id from the UI; a malformed one names nobody.
pub fn user_id(raw: &str) -> Result<uuid::Uuid, UiError> {
    da_domain::users::parse_id(raw, da_types::detail::USER_NOT_FOUND).map_err(fail)
}

/// A token id from the UI; a malformed one names nothing.
pub fn token_id(raw: &str) -> Result<uuid::Uuid, UiError> {
    da_domain::users::parse_id(raw, da_types::detail::TOKEN_NOT_FOUND).map_err(fail)
}

pub fn client() -> ClientInfo {
    request_parts()
        .and_then(|parts| parts.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

/// Turns a domain error into what the UI shows, and gives the RPC response its real status.
pub fn fail(err: da_domain::Error) -> UiError {
    reject(err.into())
}

fn reject(api: ApiError) -> UiError {
    if let (Some(response), Ok(status)) = (
        use_context::<ResponseOptions>(),
        StatusCode::from_u16(api.code.status()),
    ) {
        response.set_status(status);
    }
    UiError { detail: api.detail }
}

pub fn set_session_cookie(ctx: &ServerContext, token: &TokenResponse) {
    let max_age = (token.expires_at - chrono_now()).num_seconds();
    set_cookie(&da_types::cookie::session_cookie(
        &token.access_token,
        max_age,
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

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// A CSP that allows exactly this response's inline hydration scripts (by nonce) and the wasm.
pub fn set_content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&policy),
    ) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
