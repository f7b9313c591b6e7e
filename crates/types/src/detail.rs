//! The `detail` strings of `API.md` that more than one surface needs, written once.

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
pub const NOTHING_TO_UPDATE: &str = "At least one of name, role or active is required";

/// Why a login form failed, as a short code that travels in the `/login?error=` query.
///
/// Only codes travel in the URL, never text: a crafted link cannot make the login page say
/// anything but these messages.
pub const LOGIN_ERRORS: &[(&str, &str)] = &[
    ("credentials", INVALID_LOGIN),
    ("deactivated", ACCOUNT_DEACTIVATED),
    ("no_password", NO_PASSWORD),
    ("email", crate::validation::EMAIL_INVALID),
    (
        "rate_limited",
        "Too many attempts. Wait a minute and try again.",
    ),
    (
        "unavailable",
        "Signing in is not possible right now. Try again shortly.",
    ),
];

/// The code for a login failure's `detail` (unknown details become `unavailable`).
pub fn login_error_code(detail: &str) -> &'static str {
    LOGIN_ERRORS
        .iter()
        .find(|(_, message)| *message == detail)
        .map_or("unavailable", |(code, _)| code)
}

pub fn login_error_message(code: &str) -> Option<&'static str> {
    LOGIN_ERRORS
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, message)| *message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_error_codes_round_trip_and_unknown_codes_show_nothing() {
        for (code, message) in LOGIN_ERRORS {
            assert_eq!(login_error_code(message), *code);
            assert_eq!(login_error_message(code), Some(*message));
        }
        assert_eq!(login_error_message("<script>"), None);
        assert_eq!(login_error_code("something else"), "unavailable");
    }
}
