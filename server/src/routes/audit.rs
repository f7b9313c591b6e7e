//! `GET /api/admin/audit` (`API.md` §7).

use crate::extract::AdminCaller;
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use da_types::{AuditPage, AuditParams};

pub async fn list(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPage>, HttpError> {
    Ok(Json(state.services.audit_log(&caller, &params).await?))
}
