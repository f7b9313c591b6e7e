//! `POST /auth/token` (and its alias), `/auth/logout`, `/auth/bootstrap`, the password links,
//! and CLI sign-in (`/auth/refresh`, `/auth/device/*`, `API.md` §13).

use crate::extract::{ApiJson, Client, SessionCaller};
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header::SET_COOKIE};
use axum::response::{IntoResponse, Response};
use da_types::{
    BootstrapRequest, DeviceApproveRequest, DeviceCodeRequest, DeviceCodeResponse,
    DeviceTokenRequest, LoginRequest, MessageResponse, RefreshRequest, ResetConfirmRequest,
    ResetRequest, SetupRequest, TokenResponse,
};

pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, HttpError> {
    Ok(Json(state.services.login(&request, &client).await?))
}

pub async fn logout(
    State(state): State<AppState>,
    Client(client): Client,
    SessionCaller(caller): SessionCaller,
) -> Result<Response, HttpError> {
    state.services.logout(&caller, &client).await?;
    let clear = da_types::cookie::clear_session_cookie(state.secure_cookies());
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, clear)]).into_response())
}

pub async fn bootstrap(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(request): ApiJson<BootstrapRequest>,
) -> Result<Json<TokenResponse>, HttpError> {
    let presented = headers
        .get("x-bootstrap-token")
        .and_then(|v| v.to_str().ok());
    Ok(Json(
        state
            .services
            .bootstrap(&request, presented, &client)
            .await?,
    ))
}

pub async fn request_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<ResetRequest>,
) -> Result<Json<MessageResponse>, HttpError> {
    Ok(Json(
        state.services.request_password_reset(&request, &client)?,
    ))
}

pub async fn confirm_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<ResetConfirmRequest>,
) -> Result<Json<TokenResponse>, HttpError> {
    Ok(Json(
        state
            .services
            .confirm_password_reset(&request, &client)
            .await?,
    ))
}

pub async fn setup(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<SetupRequest>,
) -> Result<Json<TokenResponse>, HttpError> {
    Ok(Json(
        state.services.complete_setup(&request, &client).await?,
    ))
}

pub async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, HttpError> {
    Ok(Json(state.services.refresh(&request, &client).await?))
}

pub async fn device_code(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<DeviceCodeRequest>,
) -> Result<Json<DeviceCodeResponse>, HttpError> {
    Ok(Json(state.services.device_code(&request, &client).await?))
}

pub async fn device_approve(
    State(state): State<AppState>,
    Client(client): Client,
    SessionCaller(caller): SessionCaller,
    ApiJson(request): ApiJson<DeviceApproveRequest>,
) -> Result<StatusCode, HttpError> {
    state
        .services
        .decide_device(&caller, &request, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn device_token(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(request): ApiJson<DeviceTokenRequest>,
) -> Result<Json<TokenResponse>, HttpError> {
    Ok(Json(state.services.device_token(&request, &client).await?))
}
