//! `/api/groups…` and `/api/users/{id}/groups` (`API.md` §10): admin-only groups.

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
    CreateGroupRequest, Group, GroupListParams, GroupMember, UpdateGroupRequest, UserGroup,
};
use uuid::Uuid;

fn group_id(raw: &str) -> Result<Uuid, HttpError> {
    Ok(parse_id(raw, detail::GROUP_NOT_FOUND)?)
}

fn user_id(raw: &str) -> Result<Uuid, HttpError> {
    Ok(parse_id(raw, detail::USER_NOT_FOUND)?)
}

pub async fn list(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Query(params): Query<GroupListParams>,
) -> Result<Response, HttpError> {
    let page = state.services.list_groups(&admin, &params).await?;
    let mut response = Json(page.groups).into_response();
    response
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(page.total));
    Ok(response)
}

pub async fn create(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    ApiJson(request): ApiJson<CreateGroupRequest>,
) -> Result<(StatusCode, Json<Group>), HttpError> {
    let group = state
        .services
        .create_group(&admin, &request, &client)
        .await?;
    Ok((StatusCode::CREATED, Json(group)))
}

pub async fn get(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<Group>, HttpError> {
    Ok(Json(
        state.services.get_group(&admin, group_id(&id)?).await?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateGroupRequest>,
) -> Result<Json<Group>, HttpError> {
    let id = group_id(&id)?;
    Ok(Json(
        state
            .services
            .update_group(&admin, id, &request, &client)
            .await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = group_id(&id)?;
    state.services.delete_group(&admin, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<Vec<GroupMember>>, HttpError> {
    Ok(Json(
        state.services.group_members(&admin, group_id(&id)?).await?,
    ))
}

pub async fn add_member(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let (id, user) = (group_id(&id)?, user_id(&user)?);
    state.services.add_member(&admin, id, user, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let id = group_id(&id)?;
    // A malformed user id names no membership.
    let user = parse_id(&user, detail::MEMBERSHIP_NOT_FOUND)?;
    state
        .services
        .remove_member(&admin, id, user, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn of_user(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<Vec<UserGroup>>, HttpError> {
    Ok(Json(
        state.services.user_groups(&admin, user_id(&id)?).await?,
    ))
}
