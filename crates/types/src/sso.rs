//! Wire types of sign-in providers and single sign-on (`API.md` §11).

use serde::{Deserialize, Serialize};

/// Where the browser goes to sign in through the identity provider.
pub const OIDC_LOGIN_PATH: &str = "/auth/oidc/login";
/// Where the identity provider sends the browser back; `{DA_PUBLIC_URL}` + this is the
/// redirect URI to register with it.
pub const OIDC_CALLBACK_PATH: &str = "/auth/oidc/callback";
/// The short-lived cookie that binds a sign-in to the browser that started it.
pub const OIDC_FLOW_COOKIE: &str = "da_oidc";
/// Its path: sent to the callback only.
pub const OIDC_FLOW_COOKIE_PATH: &str = "/auth/oidc";
/// How long a started sign-in may take, in seconds.
pub const OIDC_FLOW_SECONDS: i64 = 600;

/// `GET /auth/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthProviders {
    pub password: bool,
    pub oidc: Option<OidcProviderInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcProviderInfo {
    /// `DA_OIDC_NAME`: what the "Sign in with …" button says.
    pub name: String,
    pub login_path: String,
}
