//! `GET /api/me`.

use crate::extract::Authenticated;
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use da_types::MeResponse;

pub async fn me(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MeResponse>, HttpError> {
    Ok(Json(state.services.me(&caller).await?))
}
