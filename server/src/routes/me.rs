//! `/api/me…` (`API.md` §4): who you are, your password, your sessions.

use crate::extract::{ApiJson, Authenticated, Client, SessionCaller};
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use da_domain::error::detail;
use da_domain::params::parse_id;
use da_types::{ChangePasswordRequest, MeResponse, SessionInfo};

pub async fn me(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MeResponse>, HttpError> {
    Ok(Json(state.services.me(&caller).await?))
}

pub async fn change_password(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
    Client(client): Client,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, HttpError> {
    state
        .services
        .change_own_password(&caller, &request, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn sessions(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
) -> Result<Json<Vec<SessionInfo>>, HttpError> {
    Ok(Json(state.services.my_sessions(&caller).await?))
}

pub async fn revoke_session(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = parse_id(&id, detail::SESSION_NOT_FOUND)?;
    state
        .services
        .revoke_my_session(&caller, id, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
