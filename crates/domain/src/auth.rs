//! Authentication: password login, logout, the first-admin bootstrap, and resolving a session
//! credential to a [`Principal`] on every request (the hot path; PATs are `tokens`'s part).

use crate::audit;
use crate::brakes::{Bucket, PasswordAttempt};
use crate::cache::CachedSession;
use crate::error::{Error, detail};
use crate::params::{display_name, seconds};
use crate::pat;
use crate::policy::Interactive;
use crate::principal::{Credential, Principal};
use crate::services::{ClientInfo, Services};
use crate::store::{
    AuditRecord, CreateGuard, CreateOutcome, LoginCheck, LoginOutcome, PasswordNews,
    PasswordOutcome, SessionRecord, UserRecord,
};
use chrono::{Duration, Utc};
use da_types::audit::{failure, method};
use da_types::detail::AuthFailure;
use da_types::validation::{normalize_email, validate_password};
use da_types::{
    BootstrapRequest, CredentialInfo, CredentialKind, HealthDetailed, LoginClient, LoginRequest,
    MeResponse, Role, TokenResponse, UserCount,
};
use std::time::Instant;
use subtle::ConstantTimeEq;
use uuid::Uuid;

const DEVICE_LABEL_MAX_CHARS: usize = 120;

impl Services {
    /// Resolves a bearer credential, in the order and with the reasons of `API.md` §1.
    pub async fn authenticate(
        &self,
        credential: &str,
        ip: Option<&str>,
    ) -> Result<Principal, Error> {
        if credential.starts_with(pat::PREFIX) {
            return self.authenticate_pat(credential, ip).await;
        }
        let claims = self
            .inner
            .keys
            .verify(credential)
            .ok_or(Error::Unauthenticated(AuthFailure::InvalidToken))?;
        let user = self
            .cached_user(claims.sub)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserNotFound))?;
        if !user.active {
            return Err(Error::Unauthenticated(AuthFailure::AccountDeactivated));
        }
        let now = Utc::now();
        let session = match self.cached_session(claims.sid).await? {
            Some(session) if !session.revoked && session.user_id == claims.sub => session,
            _ => {
                // A request that read the account just before a deactivation or deletion
                // committed finds its session already swept: it hears the account's state,
                // which §1 ranks first.
                let failure = match self.cached_user(claims.sub).await? {
                    None => AuthFailure::UserNotFound,
                    Some(user) if !user.active => AuthFailure::AccountDeactivated,
                    Some(_) => AuthFailure::SessionRevoked,
                };
                return Err(Error::Unauthenticated(failure));
            }
        };
        if session.expires_at <= now {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        }
        self.inner.session_activity.note(claims.sid, now, ip);
        let role = self.effective_role(&user).await?;
        Ok(Principal {
            user_id: claims.sub,
            email: user.email,
            role,
            credential: Credential::Session {
                session_id: claims.sid,
                expires_at: session.expires_at,
            },
        })
    }

    /// Lets a password check for this account from this client start (it counts as wrong
    /// until finished), or refuses it while the client or the account is braked.
    pub(crate) fn begin_password_check(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<PasswordAttempt<'_>, Error> {
        self.inner
            .brakes
            .begin(email, client.ip.as_deref(), Instant::now())
    }

    /// Ends a password check here, and tells the other replicas' brakes how it ended.
    pub(crate) async fn finish_password_check(
        &self,
        attempt: PasswordAttempt<'_>,
        email: &str,
        client: &ClientInfo,
        right: bool,
    ) {
        attempt.finish(right);
        let outcome = match right {
            true => PasswordOutcome::Right,
            false => PasswordOutcome::Wrong,
        };
        self.announce_password(email, client, outcome).await;
    }

    /// The account was proved without a password (a redeemed link): this client starts
    /// afresh with it, here and on every replica.
    pub(crate) async fn account_proved(&self, email: &str, client: &ClientInfo) {
        self.inner
            .brakes
            .succeeded(email, client.ip.as_deref(), Instant::now());
        self.announce_password(email, client, PasswordOutcome::Proved)
            .await;
    }

    async fn announce_password(&self, email: &str, client: &ClientInfo, outcome: PasswordOutcome) {
        let news = PasswordNews {
            account: email.to_owned(),
            client: crate::brakes::client_key(client.ip.as_deref()),
            outcome,
        };
        if let Err(err) = self.inner.store.announce_password(&news).await {
            tracing::warn!(error = %err, "cannot tell the other replicas of a password check");
        }
    }

    /// `POST /auth/token`: checks the password and opens a session.
    pub async fn login(
        &self,
        request: &LoginRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        self.inner
            .ip_limits
            .check(Bucket::Login, client.ip.as_deref())?;
        let email = normalize_email(&request.email).map_err(Error::invalid)?;
        let attempt = self.begin_password_check(&email, client)?;
        let user = self.inner.store.user_by_email(&email).await?;
        let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
        // Always verify (against a dummy hash when there is nothing to check) so that the
        // response time does not tell which emails exist.
        let verified = self
            .inner
            .hasher
            .verify(&request.password, stored_hash.as_deref())
            .await?;

        let failure = match &user {
            None => Some((failure::UNKNOWN_EMAIL, AuthFailure::InvalidLogin)),
            Some(u) if u.password_hash.is_none() && u.sso => {
                Some((failure::SSO_ONLY, AuthFailure::SsoOnly))
            }
            Some(u) if u.password_hash.is_none() => {
                Some((failure::NO_PASSWORD, AuthFailure::NoPassword))
            }
            Some(_) if !verified => Some((failure::WRONG_PASSWORD, AuthFailure::InvalidLogin)),
            Some(u) if !u.active => Some((failure::DEACTIVATED, AuthFailure::AccountDeactivated)),
            Some(_) => None,
        };
        // Unknown emails count as wrong passwords too: the brakes say nothing about which exist.
        self.finish_password_check(attempt, &email, client, verified)
            .await;
        if let Some((reason, why)) = failure {
            self.audit_failed_login(&email, user.as_ref(), reason, client)
                .await;
            return Err(Error::Unauthenticated(why));
        }
        let user = user.expect("checked above");
        let check = LoginCheck {
            approved_in: None,
            password_hash: stored_hash,
            sso: None,
        };
        self.start_session(&user, &check, client, method::PASSWORD, request.client)
            .await
    }

    async fn audit_failed_login(
        &self,
        email: &str,
        user: Option<&UserRecord>,
        reason: &str,
        client: &ClientInfo,
    ) {
        let mut row = audit::record(audit::AUTH_LOGIN_FAILED, format!("user:{email}"))
            .from_ip(client.ip.as_deref())
            .with_params(
                serde_json::json!({ "email": email, "method": method::PASSWORD, "reason": reason }),
            );
        if let Some(u) = user {
            row = row.by(u.id, &u.email);
        }
        if let Err(err) = self.inner.store.insert_audit(&row).await {
            tracing::warn!(error = %err, "could not audit a failed login");
        }
    }

    /// Opens a server-side session for `user` and mints its JWT. `check` is what must still
    /// hold when the session is written (see [`crate::store::Store::record_login`]); `method`
    /// (`da_types::audit::method`) is how the user proved who they are. A CLI session lives
    /// `cli_refresh_days` from its last refresh and comes with a short access token and its
    /// first refresh token (`API.md` §13).
    pub(crate) async fn start_session(
        &self,
        user: &UserRecord,
        check: &LoginCheck,
        client: &ClientInfo,
        method: &str,
        kind: LoginClient,
    ) -> Result<TokenResponse, Error> {
        let now = Utc::now();
        let config = &self.inner.config;
        let (expires_at, refresh) = match kind {
            LoginClient::Browser => (now + Duration::hours(config.session_hours), None),
            LoginClient::Cli => (
                now + Duration::days(config.cli_refresh_days),
                Some(
                    pat::opaque_secret(da_types::REFRESH_PREFIX)
                        .map_err(|e| Error::internal(format!("no randomness for a secret: {e}")))?,
                ),
            ),
        };
        let session = SessionRecord {
            id: Uuid::new_v4(),
            user_id: user.id,
            device_label: device_label(client.user_agent.as_deref()),
            ip: client.ip.clone(),
            created_at: now,
            last_active_at: now,
            expires_at,
            revoked_at: None,
        };
        let row = audit::record(audit::AUTH_LOGIN, format!("session:{}", session.id))
            .by(user.id, &user.email)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "device_label": session.device_label,
                "method": method,
                "client": kind,
            }));
        // Taken before the write: a sweep of this user's sessions that lands between the
        // commit and the cache fill below must win.
        let ticket = self.inner.cache.ticket();
        let refresh_hash = refresh.as_ref().map(|secret| pat::hash(secret));
        match self
            .inner
            .store
            .record_login(&session, refresh_hash.as_deref(), check, &row)
            .await?
        {
            LoginOutcome::Recorded => {}
            // The password changed while it was being checked: the one given is no longer it.
            // Single sign-on: another subject took the account's link while this one ran.
            LoginOutcome::PasswordChanged
            | LoginOutcome::UserGone
            | LoginOutcome::OtherIdentity
            | LoginOutcome::ApprovalGone => {
                return Err(Error::Unauthenticated(AuthFailure::InvalidLogin));
            }
            LoginOutcome::Deactivated => {
                return Err(Error::Unauthenticated(AuthFailure::AccountDeactivated));
            }
        }
        self.inner
            .cache
            .fill_session(&ticket, session.id, Some(CachedSession::from(&session)));
        self.session_tokens(user.id, &user.email, user.role, &session, now, refresh)
    }

    /// The answer of a login or a refresh: an access token for `session` (a CLI session's
    /// lives `cli_access_seconds`, a browser's as long as the session) and the refresh token.
    pub(crate) fn session_tokens(
        &self,
        user_id: Uuid,
        email: &str,
        role: Role,
        session: &SessionRecord,
        now: chrono::DateTime<Utc>,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse, Error> {
        let expires_at = match refresh_token {
            Some(_) => session
                .expires_at
                .min(now + Duration::seconds(self.inner.config.cli_access_seconds)),
            None => session.expires_at,
        };
        let access_token = self
            .inner
            .keys
            .mint(user_id, email, session.id, now, expires_at)
            .map_err(|e| Error::internal(format!("could not sign a session token: {e}")))?;
        Ok(TokenResponse {
            access_token,
            token_type: "bearer".into(),
            user_id,
            email: email.to_owned(),
            role,
            expires_at: seconds(expires_at),
            refresh_token,
        })
    }

    /// `POST /auth/logout`: revokes the caller's session server-side.
    pub async fn logout(&self, caller: &Interactive, client: &ClientInfo) -> Result<(), Error> {
        let session_id = caller.session_id();
        let row = audit::record(audit::AUTH_LOGOUT, format!("session:{session_id}"))
            .by_principal(caller.principal())
            .from_ip(client.ip.as_deref());
        self.inner
            .store
            .revoke_session(session_id, Utc::now(), &row)
            .await?;
        self.invalidate(&[crate::cache::Invalidation::Session(session_id)])
            .await;
        Ok(())
    }

    /// `POST /auth/bootstrap`: creates the first admin and logs them in. Once any admin exists
    /// it is refused, unless `presented_token` matches the configured bootstrap token.
    pub async fn bootstrap(
        &self,
        request: &BootstrapRequest,
        presented_token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        self.inner
            .ip_limits
            .check(Bucket::Bootstrap, client.ip.as_deref())?;
        let unlocked = match (&self.inner.config.bootstrap_token, presented_token) {
            (Some(expected), Some(presented)) => {
                bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
            }
            _ => false,
        };
        let guard = if unlocked {
            CreateGuard::EmailFree
        } else {
            CreateGuard::NoAdmin
        };
        if guard == CreateGuard::NoAdmin && self.inner.store.count_admins().await? > 0 {
            return Err(Error::Forbidden(detail::BOOTSTRAP_DISABLED.into()));
        }
        let user = self
            .new_admin(&request.email, request.name.as_deref(), &request.password)
            .await?;
        let row = audit::record(audit::AUTH_BOOTSTRAP, format!("user:{}", user.id))
            .by(user.id, &user.email)
            .from_ip(client.ip.as_deref())
            .with_params(
                serde_json::json!({ "email": user.email, "via_bootstrap_token": unlocked }),
            );
        self.insert_admin(&user, guard, &row).await?;
        let check = LoginCheck {
            approved_in: None,
            password_hash: user.password_hash.clone(),
            sso: None,
        };
        self.start_session(
            &user,
            &check,
            client,
            method::PASSWORD,
            LoginClient::Browser,
        )
        .await
    }

    /// Creates the admin named by `DA_ADMIN_EMAIL` / `DA_ADMIN_PASSWORD` when no admin exists.
    /// Returns whether one was created.
    pub async fn seed_admin(&self, email: &str, password: &str) -> Result<bool, Error> {
        if self.inner.store.count_admins().await? > 0 {
            return Ok(false);
        }
        let user = self.new_admin(email, None, password).await?;
        let row = audit::record(audit::AUTH_BOOTSTRAP, format!("user:{}", user.id))
            .with_params(serde_json::json!({ "email": user.email, "source": "environment" }));
        match self.insert_admin(&user, CreateGuard::NoAdmin, &row).await {
            Ok(()) => Ok(true),
            Err(Error::Forbidden(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    pub async fn admin_exists(&self) -> Result<bool, Error> {
        Ok(self.inner.store.count_admins().await? > 0)
    }

    async fn new_admin(
        &self,
        email: &str,
        name: Option<&str>,
        password: &str,
    ) -> Result<UserRecord, Error> {
        let email = normalize_email(email).map_err(Error::invalid)?;
        validate_password(password).map_err(Error::invalid)?;
        let name = display_name(name, &email)?;
        let password_hash = self.inner.hasher.hash(password).await?;
        let now = Utc::now();
        Ok(UserRecord {
            id: Uuid::new_v4(),
            email,
            name,
            role: Role::Admin,
            active: true,
            password_hash: Some(password_hash),
            created_at: now,
            updated_at: now,
            last_login_at: None,
            deactivated_at: None,
            deactivated_by: None,
            sso: false,
        })
    }

    async fn insert_admin(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        row: &AuditRecord,
    ) -> Result<(), Error> {
        match self.inner.store.create_user(user, guard, None, row).await? {
            CreateOutcome::Created => Ok(()),
            CreateOutcome::AdminExists => Err(Error::Forbidden(detail::BOOTSTRAP_DISABLED.into())),
            CreateOutcome::EmailTaken => Err(Error::Conflict(detail::EMAIL_TAKEN.into())),
        }
    }

    /// `GET /api/me`.
    pub async fn me(&self, principal: &Principal) -> Result<MeResponse, Error> {
        let user = self
            .cached_user(principal.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserNotFound))?;
        let credential = match principal.credential {
            Credential::Session { expires_at, .. } => CredentialInfo {
                kind: CredentialKind::Session,
                token_id: None,
                expires_at: Some(seconds(expires_at)),
            },
            Credential::Pat {
                token_id,
                expires_at,
            } => CredentialInfo {
                kind: CredentialKind::Pat,
                token_id: Some(token_id),
                expires_at: expires_at.map(seconds),
            },
        };
        let mut groups = Vec::new();
        for id in &user.groups {
            if let Some(group) = self.cached_group(*id).await? {
                groups.push(da_types::GroupRef {
                    id: *id,
                    name: group.name,
                });
            }
        }
        groups.sort_by_key(|g| g.name.to_lowercase());
        Ok(MeResponse {
            id: principal.user_id,
            email: user.email,
            name: user.name,
            role: user.role,
            effective_role: principal.role,
            groups,
            sso: user.sso,
            active: user.active,
            created_at: seconds(user.created_at),
            credential,
        })
    }

    /// `GET /api/health/detailed` (any signed-in user).
    pub async fn health_detailed(&self, _caller: &Principal) -> Result<HealthDetailed, Error> {
        let store = &self.inner.store;
        Ok(HealthDetailed {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            schema_version: store.schema_version().await?,
            storage: store.backend().into(),
            users: UserCount {
                count: store.count_users().await?,
            },
        })
    }
}

/// A short human label for a session, from its User-Agent: "Firefox on Linux", "da CLI 0.1.0".
/// Never longer than 120 characters and free of control characters, whatever the client sent.
pub fn device_label(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown device".into();
    };
    let label = if let Some(version) = ua.strip_prefix("da-cli/") {
        format!("da CLI {}", version.split_whitespace().next().unwrap_or(""))
    } else {
        let browser = [
            ("Edg/", "Edge"),
            ("OPR/", "Opera"),
            ("Firefox/", "Firefox"),
            ("Chromium/", "Chromium"),
            ("Chrome/", "Chrome"),
            ("Safari/", "Safari"),
            ("curl/", "curl"),
        ]
        .into_iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, name)| name);
        let os = [
            ("Windows", "Windows"),
            ("Android", "Android"),
            ("iPhone", "iOS"),
            ("iPad", "iPadOS"),
            ("Mac OS X", "macOS"),
            ("CrOS", "ChromeOS"),
            ("Linux", "Linux"),
        ]
        .into_iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, name)| name);
        match (browser, os) {
            (Some(b), Some(o)) => format!("{b} on {o}"),
            (Some(b), None) => b.to_owned(),
            _ => ua.to_owned(),
        }
    };
    label
        .chars()
        .filter(|c| !da_types::validation::is_forbidden_char(*c))
        .take(DEVICE_LABEL_MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_labels_are_short_and_readable() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_label(Some(firefox)), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(device_label(Some(chrome)), "Chrome on Windows");
        assert_eq!(device_label(Some("da-cli/0.1.0")), "da CLI 0.1.0");
        assert_eq!(device_label(None), "Unknown device");
        for long in [
            "x".repeat(500),
            format!("da-cli/{}", "9".repeat(500)),
            format!("Firefox/{}", "\u{202e}".repeat(500)),
        ] {
            let label = device_label(Some(&long));
            assert!(label.chars().count() <= DEVICE_LABEL_MAX_CHARS, "{label}");
            assert!(!label.contains('\u{202e}'));
        }
    }
}
