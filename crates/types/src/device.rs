//! CLI sign-in (`API.md` §13): the device authorization grant (RFC 8628) and the rotating
//! refresh tokens of CLI sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every refresh token starts with this.
pub const REFRESH_PREFIX: &str = "da_rt_";
/// The letters of a user code: no vowels (no words), nothing that reads as a digit.
pub const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code (shown as `XXXX-XXXX`).
pub const USER_CODE_LETTERS: usize = 8;
/// How long a device code may wait for its approval.
pub const DEVICE_CODE_SECONDS: u64 = 600;
/// The least time between two polls of one device code, at first.
pub const DEVICE_POLL_SECONDS: u64 = 5;
/// What `slow_down` adds to a code's interval (RFC 8628 §3.5).
pub const DEVICE_SLOW_DOWN_SECONDS: u64 = 5;
/// The longest client name a device request keeps.
pub const CLIENT_NAME_MAX_CHARS: usize = 100;

/// Who a password login is for: a browser gets one long session, the CLI a short access
/// token and a refresh token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginClient {
    #[default]
    Browser,
    Cli,
}

/// `POST /auth/refresh`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

crate::debug_redacting!(RefreshRequest {} secret { refresh_token });

/// `POST /auth/device/code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodeRequest {
    #[serde(default)]
    pub client_name: Option<String>,
}

/// What `POST /auth/device/code` answers.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCodeResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

crate::debug_redacting!(DeviceCodeResponse { user_code, verification_uri, expires_in, interval } secret { device_code });

/// `POST /auth/device/approve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceApproveRequest {
    pub user_code: String,
    pub approve: bool,
}

/// `POST /auth/device/token`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceTokenRequest {
    pub device_code: String,
}

crate::debug_redacting!(DeviceTokenRequest {} secret { device_code });

/// What the `/device` page shows of a pending request before the user decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRequestInfo {
    pub user_code: String,
    pub client_name: String,
    pub ip: Option<String>,
    #[serde(with = "crate::dto::rfc3339")]
    pub requested_at: DateTime<Utc>,
    #[serde(with = "crate::dto::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// Why `POST /auth/device/token` has no token yet (RFC 8628 §3.5): each is a 400 whose
/// `code` says what the client should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceGrantError {
    /// Ask again after the interval.
    AuthorizationPending,
    /// Ask again, and wait 5 seconds longer between asks from now on.
    SlowDown,
    /// The user said no.
    AccessDenied,
    /// Start over: the code expired, was used, or never existed.
    ExpiredToken,
}

impl DeviceGrantError {
    pub fn code(self) -> crate::ErrorCode {
        match self {
            DeviceGrantError::AuthorizationPending => crate::ErrorCode::AuthorizationPending,
            DeviceGrantError::SlowDown => crate::ErrorCode::SlowDown,
            DeviceGrantError::AccessDenied => crate::ErrorCode::AccessDenied,
            DeviceGrantError::ExpiredToken => crate::ErrorCode::ExpiredToken,
        }
    }

    pub fn detail(self) -> &'static str {
        use crate::detail::*;
        match self {
            DeviceGrantError::AuthorizationPending => DEVICE_PENDING,
            DeviceGrantError::SlowDown => DEVICE_SLOW_DOWN,
            DeviceGrantError::AccessDenied => DEVICE_DENIED,
            DeviceGrantError::ExpiredToken => DEVICE_EXPIRED,
        }
    }

    /// The answer behind a wire `code`, for clients.
    pub fn from_code(code: crate::ErrorCode) -> Option<DeviceGrantError> {
        [
            DeviceGrantError::AuthorizationPending,
            DeviceGrantError::SlowDown,
            DeviceGrantError::AccessDenied,
            DeviceGrantError::ExpiredToken,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }
}

/// A user code as people type it (any case, with or without the dash or spaces) in its one
/// form `XXXX-XXXX`; `None` when it cannot be one.
pub fn normalize_user_code(raw: &str) -> Option<String> {
    let letters: Vec<u8> = raw
        .bytes()
        .filter(|b| !matches!(b, b'-' | b' ' | b'\t'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if letters.len() != USER_CODE_LETTERS || !letters.iter().all(|b| USER_CODE_ALPHABET.contains(b))
    {
        return None;
    }
    let (head, tail) = letters.split_at(USER_CODE_LETTERS / 2);
    Some(format!(
        "{}-{}",
        String::from_utf8_lossy(head),
        String::from_utf8_lossy(tail)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_normalise_to_one_form() {
        assert_eq!(
            normalize_user_code("bcdf-ghjk").as_deref(),
            Some("BCDF-GHJK")
        );
        assert_eq!(
            normalize_user_code(" BCDF GHJK ").as_deref(),
            Some("BCDF-GHJK")
        );
        assert_eq!(
            normalize_user_code("BCDFGHJK").as_deref(),
            Some("BCDF-GHJK")
        );
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCDF-GHJ1",
            "BCDF-GHJ\u{e9}",
        ] {
            assert_eq!(normalize_user_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let response = DeviceCodeResponse {
            device_code: "secret-device-code".into(),
            user_code: "BCDF-GHJK".into(),
            verification_uri: "http://x/device".into(),
            verification_uri_complete: "http://x/device?code=BCDF-GHJK".into(),
            expires_in: 600,
            interval: 5,
        };
        assert!(!format!("{response:?}").contains("secret-device-code"));
        let refresh = RefreshRequest {
            refresh_token: "da_rt_secret".into(),
        };
        assert!(!format!("{refresh:?}").contains("da_rt_secret"));
    }
}
