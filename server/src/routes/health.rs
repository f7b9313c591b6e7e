//! `GET /api/health` (anyone) and `GET /api/health/detailed` (any signed-in user).

use crate::extract::Authenticated;
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use da_types::{HealthDetailed, HealthResponse};

pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
    })
}

pub async fn detailed(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<HealthDetailed>, HttpError> {
    Ok(Json(state.services.health_detailed(&caller).await?))
}
