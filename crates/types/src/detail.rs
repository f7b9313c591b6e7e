//! The `detail` strings of `API.md` that more than one surface needs, written once, and the
//! typed reasons behind the 401s.

use serde::{Deserialize, Serialize};

pub const MISSING_CREDENTIAL: &str = "Missing or invalid Authorization header";
pub const INVALID_TOKEN: &str = "Invalid or expired token";
pub const USER_NOT_FOUND: &str = "User not found";
pub const ACCOUNT_DEACTIVATED: &str = "Account deactivated";
pub const SESSION_REVOKED: &str = "Session revoked";
pub const INVALID_LOGIN: &str = "Invalid email or password";
pub const NO_PASSWORD: &str =
    "This account has no password. Ask an administrator for a setup link.";
pub const BOOTSTRAP_DISABLED: &str = "Bootstrap is disabled: an administrator already exists";
pub const EMAIL_TAKEN: &str = "User with this email already exists";
pub const SESSION_REQUIRED: &str = "This endpoint requires an interactive session, not a PAT";
pub const CROSS_SITE: &str = "Cross-site request refused";
pub const ADMIN_REQUIRED: &str = "Admin access required";
pub const CANNOT_DEACTIVATE_SELF: &str = "Cannot deactivate yourself";
pub const CANNOT_DEACTIVATE_LAST_ADMIN: &str = "Cannot deactivate the last active admin";
pub const CANNOT_DEMOTE_LAST_ADMIN: &str = "Cannot demote the last active admin";
pub const CANNOT_DELETE_SELF: &str = "Cannot delete yourself";
pub const CANNOT_DELETE_LAST_ADMIN: &str = "Cannot delete the last active admin";
pub const INVALID_RESET_LINK: &str = "Invalid or expired reset link";
pub const INVALID_SETUP_LINK: &str = "Invalid or expired setup link";
pub const CURRENT_PASSWORD_INCORRECT: &str = "Current password is incorrect";
pub const SESSION_NOT_FOUND: &str = "Session not found";
pub const RESET_REQUESTED: &str = "If this email is registered, a reset link has been sent.";
pub const RESET_NOT_SET_UP: &str =
    "Password reset by email is not set up on this server. Ask an administrator for a reset link.";
pub const TOKEN_REVOKED: &str = "Token revoked";
pub const TOKEN_EXPIRED: &str = "Token expired";
pub const TOKEN_NOT_FOUND: &str = "Token not found";
pub const TOKEN_NAME_REQUIRED: &str = "name is required";
pub const TOKEN_NAME_TOO_LONG: &str = "name must be at most 100 characters";
pub const TOKEN_DAYS_NOT_POSITIVE: &str = "expires_in_days must be a positive integer";
pub const TOKEN_DAYS_TOO_MANY: &str = "expires_in_days must not exceed 3650 (10 years)";
pub const TOKEN_TTL_RANGE: &str = "ttl_seconds must be between 1 and 315360000";
pub const TOKEN_ROLE_TOO_HIGH: &str = "Token role cannot exceed your own role";
pub const CLI_NOT_FOUND: &str = "CLI binary not found on this server";
pub const BAD_SERVER_URL: &str = "Unexpected server URL format";
pub const SSO_ONLY: &str = "This account signs in with single sign-on.";
pub const GROUP_NOT_FOUND: &str = "Group not found";
pub const GROUP_NAME_TAKEN: &str = "Group with this name already exists";
pub const MEMBERSHIP_NOT_FOUND: &str = "Membership not found";
pub const MEMBERSHIP_BY_SSO: &str = "Membership is managed by single sign-on";
pub const GROUP_NOTHING_TO_UPDATE: &str =
    "At least one of name, description, role or external_ids is required";
pub const DATASET_NOT_FOUND: &str = "Dataset not found";
pub const DATASET_NAME_INVALID: &str = "Dataset name must match ^[a-z][a-z0-9_]{0,62}$";
pub const DATASET_NOT_PARQUET: &str = "Not a valid Parquet file";
pub const DATASET_NOT_CSV: &str = "Not a valid CSV file";
pub const GRANT_NOT_FOUND: &str = "Grant not found";
pub const QUERY_SINGLE_SELECT: &str = "Only a single SELECT statement is allowed";
pub const QUERY_ONLY_DATASETS: &str = "Only datasets can be queried";
/// Followed by the name.
pub const QUERY_UNKNOWN_DATASET: &str = "Unknown dataset: ";
/// A query whose rows stopped before their end (da's own sentence, not the contract's).
pub const QUERY_BROKE_OFF: &str = "The query stopped before its answer was complete";
/// A query too deeply nested for the check to read (da's own sentence).
pub const QUERY_TOO_DEEP: &str = "The query is nested too deeply to be checked";
pub const ALREADY_HAS_PASSWORD: &str = "User has already set a password";
pub const INVITE_DEACTIVATED: &str = "Cannot invite a deactivated user";
pub const NOTHING_TO_UPDATE: &str = "At least one of name, role or active is required";

pub const REFRESH_INVALID: &str = "Invalid or expired refresh token";
pub const REFRESH_REUSED: &str = "Refresh token reused; the session was revoked";
pub const DEVICE_CODE_INVALID: &str = "Invalid or expired code";
pub const DEVICE_PENDING: &str = "The request has not been approved yet";
pub const DEVICE_SLOW_DOWN: &str = "Polling too often: wait the interval between requests";
pub const DEVICE_DENIED: &str = "The request was denied";
pub const DEVICE_EXPIRED: &str = "The device code has expired or was already used";
/// da's own sentence for a report too long to take at once.
pub const LEAK_REPORT_TOO_MANY: &str = "tokens must hold at most 1000 strings";

pub const UNEXPECTED_HOST: &str = "Unexpected Host header";
pub const WRITE_CONFLICT: &str = "The data changed while this request ran; try again";
pub const INTERNAL: &str = "Internal server error";
pub const UNAVAILABLE: &str = "The service is temporarily unavailable";

/// Why a credential or a login was refused: every 401 of `API.md` §1 and §3, as a value that
/// code can match on (the sentence is for people, the variant for programs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthFailure {
    MissingCredential,
    InvalidToken,
    UserNotFound,
    AccountDeactivated,
    SessionRevoked,
    TokenRevoked,
    TokenExpired,
    InvalidLogin,
    NoPassword,
    /// A password login for an account that signs in through the identity provider.
    SsoOnly,
    /// A refresh token that is unknown, expired, or of a session that ended.
    RefreshInvalid,
    /// A refresh token spent before: its whole session was revoked.
    RefreshReused,
}

impl AuthFailure {
    /// The contract's `detail` sentence.
    pub fn detail(self) -> &'static str {
        match self {
            AuthFailure::MissingCredential => MISSING_CREDENTIAL,
            AuthFailure::InvalidToken => INVALID_TOKEN,
            AuthFailure::UserNotFound => USER_NOT_FOUND,
            AuthFailure::AccountDeactivated => ACCOUNT_DEACTIVATED,
            AuthFailure::SessionRevoked => SESSION_REVOKED,
            AuthFailure::TokenRevoked => TOKEN_REVOKED,
            AuthFailure::TokenExpired => TOKEN_EXPIRED,
            AuthFailure::InvalidLogin => INVALID_LOGIN,
            AuthFailure::NoPassword => NO_PASSWORD,
            AuthFailure::SsoOnly => SSO_ONLY,
            AuthFailure::RefreshInvalid => REFRESH_INVALID,
            AuthFailure::RefreshReused => REFRESH_REUSED,
        }
    }
}

/// Why a login form failed, as a short code that travels in the `/login?error=` query.
///
/// Only codes travel in the URL, never text: a crafted link cannot make the login page say
/// anything but these messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    Credentials,
    Deactivated,
    NoPassword,
    Email,
    RateLimited,
    Unavailable,
    SsoOnly,
    SsoNotConfigured,
    SsoFailed,
    NoEmail,
    DomainNotAllowed,
    NotProvisioned,
}

impl LoginError {
    const ALL: [LoginError; 12] = [
        LoginError::Credentials,
        LoginError::Deactivated,
        LoginError::NoPassword,
        LoginError::Email,
        LoginError::RateLimited,
        LoginError::Unavailable,
        LoginError::SsoOnly,
        LoginError::SsoNotConfigured,
        LoginError::SsoFailed,
        LoginError::NoEmail,
        LoginError::DomainNotAllowed,
        LoginError::NotProvisioned,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LoginError::Credentials => "credentials",
            LoginError::Deactivated => "deactivated",
            LoginError::NoPassword => "no_password",
            LoginError::Email => "email",
            LoginError::RateLimited => "rate_limited",
            LoginError::Unavailable => "unavailable",
            LoginError::SsoOnly => "sso_only",
            LoginError::SsoNotConfigured => "sso_not_configured",
            LoginError::SsoFailed => "sso_failed",
            LoginError::NoEmail => "no_email",
            LoginError::DomainNotAllowed => "domain_not_allowed",
            LoginError::NotProvisioned => "not_provisioned",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            LoginError::Credentials => INVALID_LOGIN,
            LoginError::Deactivated => ACCOUNT_DEACTIVATED,
            LoginError::NoPassword => NO_PASSWORD,
            LoginError::Email => crate::validation::EMAIL_INVALID,
            LoginError::RateLimited => "Too many attempts. Wait a minute and try again.",
            LoginError::Unavailable => "Signing in is not possible right now. Try again shortly.",
            LoginError::SsoOnly => SSO_ONLY,
            LoginError::SsoNotConfigured => "Single sign-on is not set up on this server.",
            LoginError::SsoFailed => {
                "Single sign-on did not work. Try again, or ask an administrator."
            }
            LoginError::NoEmail => {
                "Your identity provider did not share a verified email address with this server."
            }
            LoginError::DomainNotAllowed => "Accounts of your email domain may not sign in here.",
            LoginError::NotProvisioned => {
                "There is no account for you on this server yet. Ask an administrator."
            }
        }
    }

    pub fn from_code(code: &str) -> Option<LoginError> {
        LoginError::ALL.into_iter().find(|e| e.code() == code)
    }
}

/// The message for a `/login?error=` code; unknown codes show nothing.
pub fn login_error_message(code: &str) -> Option<&'static str> {
    LoginError::from_code(code).map(LoginError::message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_error_codes_round_trip_and_unknown_codes_show_nothing() {
        for error in LoginError::ALL {
            assert_eq!(LoginError::from_code(error.code()), Some(error));
            assert_eq!(login_error_message(error.code()), Some(error.message()));
        }
        assert_eq!(login_error_message("<script>"), None);
    }

    #[test]
    fn auth_failures_carry_the_contract_sentences() {
        assert_eq!(AuthFailure::TokenRevoked.detail(), "Token revoked");
        assert_eq!(
            serde_json::to_value(AuthFailure::SessionRevoked).unwrap(),
            "session_revoked"
        );
    }
}
