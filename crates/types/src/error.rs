//! The error envelope every surface speaks: `{"detail": "...", "code": "..."}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Machine-readable error class. Each maps to exactly one HTTP status (see [`ErrorCode::status`]);
/// `Invalid` (400) and `Unprocessable` (422) share the wire code `invalid`, as the contract says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    Invalid,
    // 422, 413 and 415 travel as `invalid` too; reading `invalid` back yields `Invalid`.
    #[serde(rename = "invalid", skip_deserializing)]
    Unprocessable,
    #[serde(rename = "invalid", skip_deserializing)]
    PayloadTooLarge,
    #[serde(rename = "invalid", skip_deserializing)]
    UnsupportedMediaType,
    RateLimited,
    Unavailable,
    Internal,
    /// The device authorization grant's answers (RFC 8628 §3.5), each a 400.
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::Invalid => 400,
            ErrorCode::Unprocessable => 422,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
            ErrorCode::AuthorizationPending
            | ErrorCode::SlowDown
            | ErrorCode::AccessDenied
            | ErrorCode::ExpiredToken => 400,
        }
    }

    /// The code for an HTTP status that did not come from [`ApiError`] (framework rejections).
    pub fn for_status(status: u16) -> ErrorCode {
        match status {
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            422 => ErrorCode::Unprocessable,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::Unavailable,
            400..=499 => ErrorCode::Invalid,
            _ => ErrorCode::Internal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub detail: String,
    pub code: ErrorCode,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            detail: detail.into(),
            code,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprocessable_is_sent_as_invalid() {
        let err = ApiError::new(ErrorCode::Unprocessable, "Missing field: email");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"detail": "Missing field: email", "code": "invalid"})
        );
        assert_eq!(ErrorCode::Unprocessable.status(), 422);
    }

    #[test]
    fn framework_statuses_map_to_codes() {
        assert_eq!(ErrorCode::for_status(405), ErrorCode::Invalid);
        assert_eq!(ErrorCode::for_status(413), ErrorCode::PayloadTooLarge);
        assert_eq!(ErrorCode::for_status(502), ErrorCode::Internal);
    }
}
