//! Single sign-on (`API.md` §11): the providers the login page offers, and the two redirects
//! of the authorization-code flow. Every outcome is a redirect: the browser is mid-navigation.

use crate::extract::Client;
use crate::middleware::cookie;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use da_domain::oidc::SsoCallback;
use da_types::AuthProviders;
use da_types::cookie::oidc_flow_cookie;
use da_types::detail::LoginError;
use da_types::sso::OIDC_FLOW_COOKIE;
use serde::Deserialize;

/// `GET /auth/providers`.
pub async fn providers(State(state): State<AppState>) -> Json<AuthProviders> {
    Json(state.services.auth_providers())
}

#[derive(Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
}

/// A 302 to `location`, setting `cookies`.
fn found(location: &str, cookies: &[String]) -> Response {
    let mut response = (StatusCode::FOUND, [(LOCATION, location.to_owned())]).into_response();
    for value in cookies {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

fn to_login(error: LoginError, cookies: &[String]) -> Response {
    found(&format!("/login?error={}", error.code()), cookies)
}

/// `GET /auth/oidc/login?next=`: off to the provider, with the flow cookie.
pub async fn login(
    State(state): State<AppState>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let next = query.map(|Query(q)| q.next).unwrap_or_default();
    match state.services.begin_sso(next.as_deref()).await {
        Ok(start) => found(
            &start.redirect_to,
            &[oidc_flow_cookie(&start.cookie, state.secure_cookies())],
        ),
        Err(error) => to_login(error, &[]),
    }
}

/// `GET /auth/oidc/callback`: a session cookie and `next`, or `/login?error=`. The flow cookie
/// is cleared either way: a flow is finished once, whatever came of it.
pub async fn callback(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    query: Result<Query<SsoCallback>, QueryRejection>,
) -> Response {
    // A query that does not parse is a callback without code or state: refused like one.
    let callback = query.map(|Query(q)| q).unwrap_or_default();
    let flow = cookie(&headers, OIDC_FLOW_COOKIE);
    let secure = state.secure_cookies();
    let clear_flow = oidc_flow_cookie("", secure);
    match state
        .services
        .finish_sso(&callback, flow.as_deref(), &client)
        .await
    {
        Ok(login) => {
            let session =
                da_types::cookie::login_cookie(&login.session, chrono::Utc::now(), secure);
            found(&login.next, &[session, clear_flow])
        }
        Err(error) => to_login(error, &[clear_flow]),
    }
}
