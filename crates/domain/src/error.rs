//! The domain's error enum and its single mapping onto the wire envelope.

use crate::store::StoreError;
use da_types::{ApiError, ErrorCode};

/// What a service call can fail with. `Internal` carries a cause for the log, never for the
/// client: converting to [`ApiError`] replaces it with a generic sentence.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{detail}")]
    RateLimited { detail: String, retry_after: u64 },
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(detail: impl Into<String>) -> Self {
        Error::Invalid(detail.into())
    }

    /// 429 with the wait rounded up to whole seconds (at least 1), as `Retry-After` wants.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let seconds = seconds.max(1);
        Error::RateLimited {
            detail: format!("Too many attempts. Try again in {seconds} seconds."),
            retry_after: seconds,
        }
    }

    /// Seconds to wait before retrying, for a 429.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Error::NotFound("Not found".into()),
            StoreError::Conflict(what) => Error::Conflict(what),
            StoreError::Unavailable(why) => Error::Unavailable(why),
            StoreError::Other(why) => Error::Internal(why),
        }
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::Unauthenticated(detail) => ApiError::new(ErrorCode::Unauthenticated, detail),
            Error::Forbidden(detail) => ApiError::new(ErrorCode::Forbidden, detail),
            Error::NotFound(detail) => ApiError::new(ErrorCode::NotFound, detail),
            Error::Conflict(detail) => ApiError::new(ErrorCode::Conflict, detail),
            Error::Invalid(detail) => ApiError::new(ErrorCode::Invalid, detail),
            Error::RateLimited { detail, .. } => ApiError::new(ErrorCode::RateLimited, detail),
            Error::Unavailable(_) => ApiError::new(
                ErrorCode::Unavailable,
                "The service is temporarily unavailable",
            ),
            Error::Internal(_) => ApiError::new(ErrorCode::Internal, "Internal server error"),
        }
    }
}

/// The contract's `detail` strings live with the wire types, so the SPA can use them too.
pub use da_types::detail;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_never_reach_the_wire() {
        let api: ApiError = Error::Internal("disk /var/secret is full".into()).into();
        assert_eq!(api.detail, "Internal server error");
        let api: ApiError = Error::Unavailable("lock held by pid 7".into()).into();
        assert!(!api.detail.contains("pid"));
        assert_eq!(api.code.status(), 503);
    }
}
