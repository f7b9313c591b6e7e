//! `/api/users…` (`API.md` §5): admin-only user management.

use crate::extract::{AdminCaller, ApiJson, Client};
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use da_domain::error::detail;
use da_domain::params::parse_id;
use da_types::{
    CreateUserRequest, CreatedUser, InviteLink, ResetLink, SessionInfo, SetPasswordRequest,
    UpdateUserRequest, User, UserListParams,
};
use uuid::Uuid;

fn user_id(raw: &str) -> Result<Uuid, HttpError> {
    Ok(parse_id(raw, detail::USER_NOT_FOUND)?)
}

pub async fn list(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Query(params): Query<UserListParams>,
) -> Result<Response, HttpError> {
    let page = state.services.list_users(&admin, &params).await?;
    let mut response = Json(page.users).into_response();
    response
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(page.total));
    Ok(response)
}

pub async fn get(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<User>, HttpError> {
    Ok(Json(state.services.get_user(&admin, user_id(&id)?).await?))
}

pub async fn create(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<CreatedUser>), HttpError> {
    let created = state
        .services
        .create_user(&admin, &request, &client)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn update(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateUserRequest>,
) -> Result<Json<User>, HttpError> {
    let id = user_id(&id)?;
    Ok(Json(
        state
            .services
            .update_user(&admin, id, &request, &client)
            .await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = user_id(&id)?;
    state.services.delete_user(&admin, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deactivate(
    state: State<AppState>,
    caller: AdminCaller,
    client: Client,
    id: Path<String>,
) -> Result<Json<User>, HttpError> {
    set_active(state, caller, client, id, false).await
}

pub async fn activate(
    state: State<AppState>,
    caller: AdminCaller,
    client: Client,
    id: Path<String>,
) -> Result<Json<User>, HttpError> {
    set_active(state, caller, client, id, true).await
}

async fn set_active(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
    active: bool,
) -> Result<Json<User>, HttpError> {
    let id = user_id(&id)?;
    let user = state
        .services
        .set_user_active(&admin, id, active, &client)
        .await?;
    Ok(Json(user))
}

pub async fn reset_password(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<ResetLink>, HttpError> {
    let id = user_id(&id)?;
    Ok(Json(
        state.services.issue_reset_link(&admin, id, &client).await?,
    ))
}

pub async fn invite(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<InviteLink>, HttpError> {
    let id = user_id(&id)?;
    Ok(Json(
        state.services.resend_invite(&admin, id, &client).await?,
    ))
}

pub async fn set_password(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SetPasswordRequest>,
) -> Result<StatusCode, HttpError> {
    let id = user_id(&id)?;
    state
        .services
        .set_user_password(&admin, id, &request, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn sessions(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<Vec<SessionInfo>>, HttpError> {
    let id = user_id(&id)?;
    Ok(Json(state.services.user_sessions(&admin, id).await?))
}

pub async fn revoke_sessions(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = user_id(&id)?;
    state
        .services
        .revoke_user_sessions(&admin, id, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
