//! The domain's error enum and its single mapping onto the wire envelope.
//!
//! Every surface (REST handlers, server functions) turns an [`Error`] into an [`ApiError`]
//! through [`Error::into_api`] (or `From`), which logs internal causes and sends only the
//! contract's sentence: nothing a driver or the operating system said ever reaches a client.

use crate::store::StoreError;
use da_types::detail::{self as details, AuthFailure, LoginError};
use da_types::{ApiError, ErrorCode};

/// What a service call can fail with. `Internal`, `Unavailable` and `WriteConflict` carry a
/// cause for the log, never for the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.detail())]
    Unauthenticated(AuthFailure),
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
    /// The device grant has no token (yet): a 400 with its RFC 8628 code.
    #[error("{}", .0.detail())]
    DeviceGrant(da_types::DeviceGrantError),
    /// A write lost to a concurrent one; the client may retry.
    #[error("write conflict: {0}")]
    WriteConflict(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(detail: impl Into<String>) -> Self {
        Error::Invalid(detail.into())
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }

    /// 429 with the wait rounded up to whole seconds (at least 1), as `Retry-After` wants.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let seconds = seconds.max(1);
        Error::RateLimited {
            detail: match seconds {
                1 => "Too many attempts. Try again in 1 second.".to_owned(),
                _ => format!("Too many attempts. Try again in {seconds} seconds."),
            },
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

    /// The `/login?error=` code for a failed password login.
    pub fn login_error(&self) -> LoginError {
        match self {
            Error::Unauthenticated(AuthFailure::AccountDeactivated) => LoginError::Deactivated,
            Error::Unauthenticated(AuthFailure::NoPassword) => LoginError::NoPassword,
            Error::Unauthenticated(AuthFailure::SsoOnly) => LoginError::SsoOnly,
            Error::Unauthenticated(_) => LoginError::Credentials,
            Error::RateLimited { .. } => LoginError::RateLimited,
            // The only 400 a login gives is a malformed email.
            Error::Invalid(_) => LoginError::Email,
            _ => LoginError::Unavailable,
        }
    }

    /// The wire form: the contract's sentence; causes are logged here and dropped.
    pub fn into_api(self) -> ApiError {
        match self {
            Error::Unauthenticated(why) => ApiError::new(ErrorCode::Unauthenticated, why.detail()),
            Error::Forbidden(detail) => ApiError::new(ErrorCode::Forbidden, detail),
            Error::NotFound(detail) => ApiError::new(ErrorCode::NotFound, detail),
            Error::Conflict(detail) => ApiError::new(ErrorCode::Conflict, detail),
            Error::Invalid(detail) => ApiError::new(ErrorCode::Invalid, detail),
            Error::RateLimited { detail, .. } => ApiError::new(ErrorCode::RateLimited, detail),
            Error::DeviceGrant(why) => ApiError::new(why.code(), why.detail()),
            Error::WriteConflict(cause) => {
                tracing::warn!(%cause, "a write lost to a concurrent one");
                ApiError::new(ErrorCode::Conflict, details::WRITE_CONFLICT)
            }
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                ApiError::new(ErrorCode::Unavailable, details::UNAVAILABLE)
            }
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::new(ErrorCode::Internal, details::INTERNAL)
            }
        }
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Error::NotFound("Not found".into()),
            StoreError::Conflict(cause) => Error::WriteConflict(cause),
            StoreError::Unavailable(cause) => Error::Unavailable(cause),
            StoreError::Other(cause) => Error::Internal(cause),
        }
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        err.into_api()
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

    #[test]
    fn driver_text_of_a_conflict_stays_in_the_log() {
        let driver = StoreError::Conflict(
            "Constraint Error: Duplicate key \"email: a@b.c\" violates unique constraint in /srv/da/da.duckdb"
                .into(),
        );
        let api: ApiError = Error::from(driver).into();
        assert_eq!(api.code.status(), 409);
        assert_eq!(
            api.detail,
            "The data changed while this request ran; try again"
        );
        let other: ApiError = Error::from(StoreError::Other("IO Error: /srv".into())).into();
        assert_eq!(other.detail, "Internal server error");
    }

    #[test]
    fn login_errors_come_from_the_variant_not_the_sentence() {
        assert_eq!(
            Error::Unauthenticated(AuthFailure::InvalidLogin).login_error(),
            LoginError::Credentials
        );
        assert_eq!(
            Error::Unauthenticated(AuthFailure::AccountDeactivated).login_error(),
            LoginError::Deactivated
        );
        assert_eq!(
            Error::rate_limited(std::time::Duration::from_secs(3)).login_error(),
            LoginError::RateLimited
        );
        assert_eq!(
            Error::Internal("x".into()).login_error(),
            LoginError::Unavailable
        );
    }
}
