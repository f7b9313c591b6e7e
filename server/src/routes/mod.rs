//! REST handlers (`API.md`): each translates HTTP to one service call and back, nothing more.

pub mod audit;
pub mod auth;
pub mod browser;
pub mod cli;
pub mod datasets;
pub mod groups;
pub mod health;
pub mod me;
pub mod sso;
pub mod tokens;
pub mod users;

use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Router;
use axum::routing::{delete, get, post, put};
use da_types::ErrorCode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health::health))
        .route("/api/health/detailed", get(health::detailed))
        .route("/api/me", get(me::me))
        .route("/api/me/password", post(me::change_password))
        .route("/api/me/sessions", get(me::sessions))
        .route("/api/me/sessions/{id}", delete(me::revoke_session))
        .route("/api/users", get(users::list).post(users::create))
        .route(
            "/api/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/api/users/{id}/deactivate", post(users::deactivate))
        .route("/api/users/{id}/activate", post(users::activate))
        .route(
            "/api/users/{id}/reset-password",
            post(users::reset_password),
        )
        .route("/api/users/{id}/set-password", post(users::set_password))
        .route("/api/users/{id}/invite", post(users::invite))
        .route(
            "/api/users/{id}/sessions",
            get(users::sessions).delete(users::revoke_sessions),
        )
        .route("/api/users/{id}/groups", get(groups::of_user))
        .route("/api/groups", get(groups::list).post(groups::create))
        .route(
            "/api/groups/{id}",
            get(groups::get)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/api/groups/{id}/members", get(groups::members))
        .route(
            "/api/groups/{id}/members/{user_id}",
            put(groups::add_member).delete(groups::remove_member),
        )
        .route("/api/admin/audit", get(audit::list))
        .route("/api/admin/audit/verify", get(audit::verify))
        .route("/api/admin/audit/export", get(audit::export))
        .route("/api/tokens/leaked", post(tokens::leaked))
        .route("/api/datasets", get(datasets::list))
        .route(
            "/api/datasets/{name}",
            get(datasets::get)
                .put(datasets::put)
                .patch(datasets::update)
                .delete(datasets::delete),
        )
        .route(
            "/api/datasets/{name}/grants/{group_id}",
            put(datasets::grant).delete(datasets::revoke),
        )
        .route("/api/datasets/{name}/download", get(datasets::download))
        .route("/api/sync/manifest", get(datasets::manifest))
        .route("/api/query", post(datasets::query))
        .route("/auth/token", post(auth::login))
        .route("/auth/password/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/bootstrap", post(auth::bootstrap))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/device/code", post(auth::device_code))
        .route("/auth/device/approve", post(auth::device_approve))
        .route("/auth/device/token", post(auth::device_token))
        .route("/auth/providers", get(sso::providers))
        .route(da_types::sso::OIDC_LOGIN_PATH, get(sso::login))
        .route(da_types::sso::OIDC_CALLBACK_PATH, get(sso::callback))
        .route("/auth/password/reset", post(auth::request_reset))
        .route("/auth/password/reset/confirm", post(auth::confirm_reset))
        .route("/auth/password/setup", post(auth::setup))
        .route("/auth/tokens", get(tokens::list).post(tokens::create))
        .route("/auth/tokens/{id}", get(tokens::get).delete(tokens::revoke))
        .route("/auth/admin/tokens", get(tokens::admin_list))
        .route("/auth/admin/tokens/{id}", delete(tokens::admin_revoke))
        .route("/cli/latest", get(cli::latest))
        .route("/cli/download", get(cli::download))
        .route("/cli/install.sh", get(cli::install_script))
        .route("/login", post(browser::login_form))
        .route("/logout", post(browser::logout_form))
}

/// Unknown paths under the machine prefixes get a JSON 404, not the SPA's HTML one.
pub async fn not_found() -> HttpError {
    HttpError::new(ErrorCode::NotFound, "Not found")
}
