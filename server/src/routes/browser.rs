//! Plain HTML form posts for `/login` and `/logout`, so signing in and out works before the
//! page has hydrated (or with JavaScript off). The hydrated SPA uses server functions instead;
//! both end in the same service calls.

use crate::extract::Client;
use crate::middleware;
use crate::state::AppState;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use da_domain::AuthState;
use da_types::{LoginRequest, safe_next};
use serde::Deserialize;

#[derive(Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

da_types::debug_redacting!(LoginForm { email, next } secret { password });

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

pub async fn login_form(
    State(state): State<AppState>,
    Client(client): Client,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    // A malformed form is just a failed login.
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    let request = LoginRequest {
        email: form.email,
        password: form.password,
        client: da_types::LoginClient::Browser,
    };
    match state.services.login(&request, &client).await {
        Ok(token) => {
            let cookie =
                da_types::cookie::login_cookie(&token, chrono::Utc::now(), state.secure_cookies());
            let mut response = see_other(&next);
            if let Ok(value) = cookie.parse() {
                response.headers_mut().insert(SET_COOKIE, value);
            }
            response
        }
        Err(err) => {
            let code = err.login_error().code();
            // Internal causes still reach the log.
            let _ = err.into_api();
            let back = middleware::login_redirect(&next);
            see_other(&format!("{back}&error={code}"))
        }
    }
}

pub async fn logout_form(
    State(state): State<AppState>,
    Client(client): Client,
    Extension(auth): Extension<AuthState>,
) -> Response {
    if let Some(caller) = auth
        .principal()
        .and_then(|p| da_domain::require_session(p).ok())
        && let Err(err) = state.services.logout(&caller, &client).await
    {
        tracing::warn!(error = %err, "logout failed");
    }
    let mut response = see_other("/login");
    if let Ok(value) = da_types::cookie::clear_session_cookie(state.secure_cookies()).parse() {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}
