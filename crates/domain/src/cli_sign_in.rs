//! CLI sign-in (`API.md` §13): rotating refresh tokens with reuse detection, and the device
//! authorization grant (RFC 8628) that lets `da login` on a headless machine be approved in a
//! browser elsewhere.

use crate::audit;
use crate::brakes::Bucket;
use crate::error::{Error, detail};
use crate::pat;
use crate::policy::Interactive;
use crate::services::{ClientInfo, Services};
use crate::store::{
    DeviceDecision, DeviceGrantRecord, DevicePoll, LoginCheck, RefreshOutcome, RefreshRotation,
};
use chrono::{Duration, Utc};
use da_types::audit::method;
use da_types::detail::AuthFailure;
use da_types::{
    CLIENT_NAME_MAX_CHARS, DEVICE_CODE_SECONDS, DEVICE_POLL_SECONDS, DeviceApproveRequest,
    DeviceCodeRequest, DeviceCodeResponse, DeviceGrantError, DeviceRequestInfo, DeviceTokenRequest,
    LoginClient, REFRESH_PREFIX, RefreshRequest, TokenResponse, USER_CODE_ALPHABET,
    USER_CODE_LETTERS, normalize_user_code,
};

const DEVICE_CODE_PREFIX: &str = "da_dc_";
/// How much sooner than its interval a poll may come before it is told to slow down: timers
/// and networks are not exact.
const POLL_GRACE_MS: i64 = 1_000;

fn random_secret(prefix: &str) -> Result<String, Error> {
    pat::opaque_secret(prefix)
        .map_err(|e| Error::internal(format!("no randomness for a secret: {e}")))
}

fn user_code_hash(user_code: &str) -> String {
    pat::hash(user_code)
}

/// The client name to show on the approval page: what the client said (trimmed, no control
/// or bidi characters, at most 100 characters), else what its User-Agent says.
fn client_name(given: Option<&str>, client: &ClientInfo) -> String {
    let cleaned: String = given
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| !da_types::validation::is_forbidden_char(*c))
        .take(CLIENT_NAME_MAX_CHARS)
        .collect();
    match cleaned.trim() {
        "" => crate::auth::device_label(client.user_agent.as_deref()),
        name => name.to_owned(),
    }
}

impl Services {
    /// `POST /auth/refresh`: spends the refresh token for a new access token and the next
    /// refresh token. A spent token presented again revokes its whole session.
    pub async fn refresh(
        &self,
        request: &RefreshRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        let invalid = || Error::Unauthenticated(AuthFailure::RefreshInvalid);
        let presented = request.refresh_token.trim();
        if !pat::is_opaque_secret(presented, REFRESH_PREFIX) {
            return Err(invalid());
        }
        let presented_hash = pat::hash(presented);
        let store = &self.inner.store;
        let token = store
            .refresh_token(&presented_hash)
            .await?
            .ok_or_else(invalid)?;
        let session = store
            .session_by_id(token.session_id)
            .await?
            .ok_or_else(invalid)?;
        let user = match self.cached_user(session.user_id).await? {
            Some(user) if user.active => user,
            _ => return Err(invalid()),
        };
        let now = Utc::now();
        let next = random_secret(REFRESH_PREFIX)?;
        let resource = format!("session:{}", session.id);
        let rotated = audit::record(audit::SESSION_REFRESH, resource.clone())
            .by(session.user_id, &user.email)
            .from_ip(client.ip.as_deref());
        let reused = audit::record(audit::SESSION_REFRESH_REUSE, resource)
            .by(session.user_id, &user.email)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "device_label": session.device_label,
                "token_issued_at": token.issued_at.to_rfc3339(),
            }));
        let rotation = RefreshRotation {
            presented_hash,
            next_hash: pat::hash(&next),
            at: now,
            expires_at: now + Duration::days(self.inner.config.cli_refresh_days),
        };
        match store.rotate_refresh(&rotation, &rotated, &reused).await? {
            RefreshOutcome::Rotated(session) => {
                // Its expiry moved: no replica may keep the old one.
                self.invalidate(&[crate::cache::Invalidation::Session(session.id)])
                    .await;
                self.session_tokens(
                    session.user_id,
                    &user.email,
                    user.role,
                    &session,
                    now,
                    Some(next),
                )
            }
            RefreshOutcome::Invalid => Err(invalid()),
            RefreshOutcome::Reused(session_id) => {
                tracing::warn!(%session_id, "a spent refresh token was presented again; the session is revoked");
                self.invalidate(&[crate::cache::Invalidation::Session(session_id)])
                    .await;
                Err(Error::Unauthenticated(AuthFailure::RefreshReused))
            }
        }
    }

    /// `POST /auth/device/code`: a new device request, waiting for a signed-in user's
    /// approval. Rate-limited per client IP like logins.
    pub async fn device_code(
        &self,
        request: &DeviceCodeRequest,
        client: &ClientInfo,
    ) -> Result<DeviceCodeResponse, Error> {
        self.inner
            .ip_limits
            .check(Bucket::Login, client.ip.as_deref())?;
        let device_code = random_secret(DEVICE_CODE_PREFIX)?;
        let letters = pat::random_chars(USER_CODE_ALPHABET, USER_CODE_LETTERS)
            .map_err(|e| Error::internal(format!("no randomness for a user code: {e}")))?;
        let user_code = normalize_user_code(&letters)
            .ok_or_else(|| Error::internal("a generated user code does not normalise"))?;
        let now = Utc::now();
        let grant = DeviceGrantRecord {
            device_hash: pat::hash(&device_code),
            user_code_hash: user_code_hash(&user_code),
            client_name: client_name(request.client_name.as_deref(), client),
            ip: client.ip.clone(),
            created_at: now,
            expires_at: now + Duration::seconds(DEVICE_CODE_SECONDS as i64),
            interval_seconds: DEVICE_POLL_SECONDS as u32,
            last_poll_at: None,
            decision: DeviceDecision::Pending,
        };
        let row = audit::record(audit::DEVICE_REQUEST, "device")
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "client_name": grant.client_name }));
        self.inner.store.create_device_grant(&grant, &row).await?;
        let base = self
            .inner
            .config
            .public_url
            .clone()
            .or_else(|| client.origin.clone())
            .unwrap_or_default();
        let verification_uri = format!("{}/device", base.trim_end_matches('/'));
        Ok(DeviceCodeResponse {
            verification_uri_complete: format!("{verification_uri}?code={user_code}"),
            verification_uri,
            device_code,
            user_code,
            expires_in: DEVICE_CODE_SECONDS,
            interval: DEVICE_POLL_SECONDS,
        })
    }

    /// What the `/device` page shows before the signed-in user decides: 400 `Invalid or
    /// expired code` unless the request is pending.
    pub async fn device_request(
        &self,
        _caller: &Interactive,
        user_code: &str,
    ) -> Result<DeviceRequestInfo, Error> {
        let (code, grant) = self.pending_grant(user_code).await?;
        Ok(DeviceRequestInfo {
            user_code: code,
            client_name: grant.client_name,
            ip: grant.ip,
            requested_at: crate::params::seconds(grant.created_at),
            expires_at: crate::params::seconds(grant.expires_at),
        })
    }

    async fn pending_grant(&self, user_code: &str) -> Result<(String, DeviceGrantRecord), Error> {
        let invalid = || Error::invalid(detail::DEVICE_CODE_INVALID);
        let code = normalize_user_code(user_code).ok_or_else(invalid)?;
        let grant = self
            .inner
            .store
            .device_grant(&user_code_hash(&code))
            .await?
            .filter(|g| g.decision == DeviceDecision::Pending && g.expires_at > Utc::now())
            .ok_or_else(invalid)?;
        Ok((code, grant))
    }

    /// `POST /auth/device/approve`: the signed-in user (a session, never a PAT) approves or
    /// denies a pending request.
    pub async fn decide_device(
        &self,
        caller: &Interactive,
        request: &DeviceApproveRequest,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let (code, grant) = self.pending_grant(&request.user_code).await?;
        let principal = caller.principal();
        let (action, decision) = match request.approve {
            true => (
                audit::DEVICE_APPROVE,
                DeviceDecision::Approved {
                    user_id: principal.user_id,
                    session_id: caller.session_id(),
                },
            ),
            false => (audit::DEVICE_DENY, DeviceDecision::Denied),
        };
        let row = audit::record(action, "device")
            .by_principal(principal)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "client_name": grant.client_name,
                "requested_from": grant.ip,
            }));
        let decided = self
            .inner
            .store
            .decide_device_grant(&user_code_hash(&code), decision, Utc::now(), &row)
            .await?;
        match decided {
            true => Ok(()),
            false => Err(Error::invalid(detail::DEVICE_CODE_INVALID)),
        }
    }

    /// `POST /auth/device/token`: the CLI's poll. Once approved, opens a CLI session for the
    /// user who approved (once: the code is spent by that poll).
    pub async fn device_token(
        &self,
        request: &DeviceTokenRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        let presented = request.device_code.trim();
        if !pat::is_opaque_secret(presented, DEVICE_CODE_PREFIX) {
            return Err(Error::DeviceGrant(DeviceGrantError::ExpiredToken));
        }
        let poll = self
            .inner
            .store
            .poll_device_grant(&pat::hash(presented), Utc::now(), POLL_GRACE_MS)
            .await?;
        let (user_id, approved_in) = match poll {
            DevicePoll::Unknown | DevicePoll::Expired => {
                return Err(Error::DeviceGrant(DeviceGrantError::ExpiredToken));
            }
            DevicePoll::SlowDown => return Err(Error::DeviceGrant(DeviceGrantError::SlowDown)),
            DevicePoll::Pending => {
                return Err(Error::DeviceGrant(DeviceGrantError::AuthorizationPending));
            }
            DevicePoll::Denied => return Err(Error::DeviceGrant(DeviceGrantError::AccessDenied)),
            DevicePoll::Approved {
                user_id,
                session_id,
                ..
            } => (user_id, session_id),
        };
        // Deactivated or deleted since approving: the session write below refuses it too.
        let user = self
            .inner
            .store
            .user_by_id(user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(Error::DeviceGrant(DeviceGrantError::AccessDenied))?;
        // The approving session must still be live when this one is written: a password change
        // or "sign out everywhere" after the click cancels the approval too.
        let check = LoginCheck {
            approved_in: Some(approved_in),
            ..LoginCheck::default()
        };
        self.start_session(&user, &check, client, method::DEVICE, LoginClient::Cli)
            .await
            .map_err(|err| match err {
                Error::Unauthenticated(_) => Error::DeviceGrant(DeviceGrantError::AccessDenied),
                other => other,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_their_shape() {
        let refresh = random_secret(REFRESH_PREFIX).unwrap();
        assert!(pat::is_opaque_secret(&refresh, REFRESH_PREFIX), "{refresh}");
        assert_eq!(refresh.len(), 49);
        assert!(!pat::is_opaque_secret(&refresh[..48], REFRESH_PREFIX));
        assert!(!pat::is_opaque_secret(&refresh, DEVICE_CODE_PREFIX));
        let mut odd = refresh.clone();
        odd.replace_range(10..11, "-");
        assert!(!pat::is_opaque_secret(&odd, REFRESH_PREFIX));
        assert_ne!(random_secret(REFRESH_PREFIX).unwrap(), refresh);
    }

    #[test]
    fn client_names_are_cleaned_or_taken_from_the_user_agent() {
        let cli = ClientInfo {
            user_agent: Some("da-cli/0.4.0".into()),
            ..ClientInfo::default()
        };
        assert_eq!(client_name(Some("  laptop  "), &cli), "laptop");
        assert_eq!(client_name(Some("   "), &cli), "da CLI 0.4.0");
        assert_eq!(client_name(None, &cli), "da CLI 0.4.0");
        let long = "x".repeat(500);
        assert_eq!(client_name(Some(&long), &cli).chars().count(), 100);
        assert_eq!(client_name(Some("a\u{202e}b"), &cli), "ab");
    }
}
