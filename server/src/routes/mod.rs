//! REST handlers (`API.md`): each translates HTTP to one service call and back, nothing more.

pub mod auth;
pub mod browser;
pub mod health;
pub mod me;

use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use da_types::ErrorCode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health::health))
        .route("/api/health/detailed", get(health::detailed))
        .route("/api/me", get(me::me))
        .route("/auth/token", post(auth::login))
        .route("/auth/password/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/bootstrap", post(auth::bootstrap))
        .route("/login", post(browser::login_form))
        .route("/logout", post(browser::logout_form))
}

/// Unknown paths under the machine prefixes get a JSON 404, not the SPA's HTML one.
pub async fn not_found() -> HttpError {
    HttpError::new(ErrorCode::NotFound, "Not found")
}
