//! `/auth/tokens…` and `/auth/admin/tokens…` (`API.md` §6): personal access tokens.

use crate::extract::{AdminCaller, ApiJson, Authenticated, Client, SessionCaller};
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use da_domain::error::detail;
use da_domain::params::parse_id;
use da_types::{CreateTokenRequest, CreatedToken, TokenItem, TokenListParams};
use uuid::Uuid;

fn token_id(raw: &str) -> Result<Uuid, HttpError> {
    Ok(parse_id(raw, detail::TOKEN_NOT_FOUND)?)
}

pub async fn create(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
    Client(client): Client,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), HttpError> {
    let created = state
        .services
        .create_token(&caller, &request, &client)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<TokenItem>>, HttpError> {
    Ok(Json(state.services.my_tokens(&caller).await?))
}

pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<TokenItem>, HttpError> {
    Ok(Json(
        state.services.my_token(&caller, token_id(&id)?).await?,
    ))
}

pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = token_id(&id)?;
    state.services.revoke_my_token(&caller, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn admin_list(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Query(params): Query<TokenListParams>,
) -> Result<Response, HttpError> {
    let page = state.services.all_tokens(&caller, &params).await?;
    let mut response = Json(page.tokens).into_response();
    response
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(page.total));
    Ok(response)
}

pub async fn admin_revoke(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let id = token_id(&id)?;
    state
        .services
        .admin_revoke_token(&caller, id, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/tokens/leaked` (`API.md` §14): an admin, or a scanner with the leak secret.
pub async fn leaked(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    axum::Extension(auth): axum::Extension<da_domain::AuthState>,
    // Who asks is settled before the body is judged: a stranger hears 401, not a 422.
    report: Result<ApiJson<da_types::LeakReport>, HttpError>,
) -> Result<Json<da_types::LeakOutcome>, HttpError> {
    let bearer = crate::middleware::bearer_credential(&headers);
    let reporter = state.services.leak_reporter(bearer.as_deref(), &auth)?;
    let ApiJson(report) = report?;
    Ok(Json(
        state
            .services
            .report_leaked(&reporter, &report, &client)
            .await?,
    ))
}
