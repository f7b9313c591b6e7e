//! The one place a domain error becomes an HTTP response: status from the code table, body
//! `{"detail", "code"}`. Internal causes are logged (by `da_domain::Error::into_api`) and never
//! sent.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use da_types::{ApiError, ErrorCode};

#[derive(Debug)]
pub struct HttpError {
    pub error: ApiError,
    /// Seconds, for the `Retry-After` header of a 429.
    pub retry_after: Option<u64>,
}

impl HttpError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        HttpError {
            error: ApiError::new(code, detail),
            retry_after: None,
        }
    }
}

impl From<da_domain::Error> for HttpError {
    fn from(err: da_domain::Error) -> Self {
        HttpError {
            retry_after: err.retry_after(),
            // The one conversion: it logs internal causes and keeps only the sentence.
            error: err.into_api(),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.code.status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.error)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
