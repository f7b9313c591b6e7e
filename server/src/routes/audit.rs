//! `GET /api/admin/audit` (`API.md` §7), and the chain's check and export (§14).

use crate::extract::AdminCaller;
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use da_domain::Services;
use da_types::{AuditPage, AuditParams, AuditVerification};
use serde::Deserialize;

/// Rows fetched per page while an export streams.
const EXPORT_PAGE: u32 = 1_000;

pub async fn list(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPage>, HttpError> {
    Ok(Json(state.services.audit_log(&caller, &params).await?))
}

pub async fn verify(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
) -> Result<Json<AuditVerification>, HttpError> {
    Ok(Json(state.services.verify_audit(&caller).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportParams {
    #[serde(default)]
    since_seq: Option<String>,
}

/// NDJSON, oldest first, fetched a page at a time as the client reads. The first page is read
/// before the answer starts, so a failing store is a proper error status; a failure later can
/// only cut the stream short (the client sees the last `seq` it got and can resume after it).
pub async fn export(
    State(state): State<AppState>,
    AdminCaller(caller): AdminCaller,
    Query(params): Query<ExportParams>,
) -> Result<Response, HttpError> {
    let after = Services::parse_since_seq(params.since_seq.as_deref())?;
    let first = state
        .services
        .export_audit(&caller, after, EXPORT_PAGE)
        .await?;
    let services = state.services.clone();
    let pages = futures_util::stream::unfold(Some(first), move |page| {
        let (services, caller) = (services.clone(), caller.clone());
        async move {
            let page = page?;
            if page.is_empty() {
                return None;
            }
            let mut text = String::new();
            for row in &page {
                match serde_json::to_string(row) {
                    Ok(line) => {
                        text.push_str(&line);
                        text.push('\n');
                    }
                    Err(err) => return Some((Err(std::io::Error::other(err)), None)),
                }
            }
            let next = match page.len() < EXPORT_PAGE as usize {
                true => Some(Vec::new()),
                false => {
                    let after = page.last().map_or(0, |row| row.seq);
                    match services.export_audit(&caller, after, EXPORT_PAGE).await {
                        Ok(next) => Some(next),
                        // Cut the body off rather than end it cleanly: the client must see
                        // a broken transfer, never a short log that looks complete.
                        Err(err) => {
                            tracing::warn!(error = %err, "the audit export stopped early");
                            return Some((
                                Err(std::io::Error::other("the audit export stopped early")),
                                None,
                            ));
                        }
                    }
                }
            };
            Some((Ok::<_, std::io::Error>(Bytes::from(text)), next))
        }
    });
    Ok((
        [(CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(pages),
    )
        .into_response())
}
