//! The `Set-Cookie` values for a browser session, written once for every surface that sets them.

use crate::SESSION_COOKIE;

/// `access_token=<jwt>`: HttpOnly, SameSite=Lax, Path=/, Secure when served over https.
pub fn session_cookie(token: &str, max_age_seconds: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
        max_age_seconds.max(0),
        if secure { "; Secure" } else { "" }
    )
}

/// The cookie for a fresh login: lives exactly as long as the session it carries.
pub fn login_cookie(
    token: &crate::TokenResponse,
    now: chrono::DateTime<chrono::Utc>,
    secure: bool,
) -> String {
    let max_age = (token.expires_at - now).num_seconds();
    session_cookie(&token.access_token, max_age, secure)
}

/// Expires the session cookie (`Max-Age=0`).
pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// `da_oidc=<flow>`: the single sign-on flow in progress. HttpOnly; Path=/auth/oidc so only
/// the callback gets it; SameSite=Lax, as the provider's redirect back is a cross-site
/// top-level navigation (Strict would withhold it).
pub fn oidc_flow_cookie(flow: &str, secure: bool) -> String {
    format!(
        "{}={flow}; HttpOnly; SameSite=Lax; Path={}; Max-Age={}{}",
        crate::sso::OIDC_FLOW_COOKIE,
        crate::sso::OIDC_FLOW_COOKIE_PATH,
        if flow.is_empty() {
            0
        } else {
            crate::sso::OIDC_FLOW_SECONDS
        },
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_the_contract_attributes() {
        assert_eq!(
            session_cookie("abc", 60, false),
            "access_token=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert_eq!(
            clear_session_cookie(true),
            "access_token=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure"
        );
        assert_eq!(
            oidc_flow_cookie("f", false),
            "da_oidc=f; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age=600"
        );
        assert_eq!(
            oidc_flow_cookie("", true),
            "da_oidc=; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age=0; Secure"
        );
    }
}
