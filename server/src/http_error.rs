//! The one place a domain error becomes an HTTP response: status from the code table, body
//! `{"detail", "code"}`. Internal causes are logged here and never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use da_types::{ApiError, ErrorCode};

#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl HttpError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        HttpError(ApiError::new(code, detail))
    }
}

impl From<da_domain::Error> for HttpError {
    fn from(err: da_domain::Error) -> Self {
        match &err {
            da_domain::Error::Internal(cause) => tracing::error!(%cause, "internal error"),
            da_domain::Error::Unavailable(cause) => tracing::warn!(%cause, "storage unavailable"),
            _ => {}
        }
        HttpError(err.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}
