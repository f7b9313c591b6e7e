//! The sign-in itself: `GET /auth/oidc/login` starts it, `GET /auth/oidc/callback` finishes it
//! with a session, or with one `/login?error=` code and an audit row saying why not.

use super::flow::{Flow, challenge};
use super::id_token::{self, Expected, Rejection};
use super::provider::json_body;
use super::{OidcSettings, RelyingParty};
use crate::audit;
use crate::brakes::Bucket;
use crate::error::Error;
use crate::params::display_name;
use crate::services::{ClientInfo, Services};
use crate::store::{AuditRecord, CreateGuard, CreateOutcome, LoginCheck, SsoIdentity, UserRecord};
use chrono::{Duration, Utc};
use da_types::audit::method;
use da_types::detail::{AuthFailure, LoginError};
use da_types::sso::{OIDC_FLOW_SECONDS, OIDC_LOGIN_PATH};
use da_types::validation::normalize_email;
use da_types::{AuthProviders, OidcProviderInfo, Role, TokenResponse, safe_next};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Where `GET /auth/oidc/login` sends the browser, and the flow cookie to set on the way.
#[derive(Clone, PartialEq, Eq)]
pub struct SsoStart {
    pub redirect_to: String,
    /// The sealed flow (`da_oidc`, HttpOnly, 10 minutes).
    pub cookie: String,
}

impl std::fmt::Debug for SsoStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoStart")
            .field("redirect_to", &self.redirect_to)
            .field("cookie", &"<redacted>")
            .finish()
    }
}

/// The query of `GET /auth/oidc/callback`, as the provider sent it. `Debug` leaves out the
/// code and the state.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SsoCallback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// An OAuth error instead of a code (`access_denied` when the person cancelled).
    #[serde(default)]
    pub error: Option<String>,
    /// RFC 9207: the issuer that answered, when the provider says.
    #[serde(default)]
    pub iss: Option<String>,
}

impl std::fmt::Debug for SsoCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("SsoCallback")
            .field("code", &redacted(&self.code))
            .field("state", &redacted(&self.state))
            .field("error", &self.error)
            .field("iss", &self.iss)
            .finish()
    }
}

/// A finished sign-in: the session, and where to go.
#[derive(Debug)]
pub struct SsoLogin {
    pub session: TokenResponse,
    pub next: String,
}

/// Why a sign-in ended without a session: the code the browser is shown, and the cause the
/// log gets (never the browser: it may name the provider's internals).
struct Failure {
    code: LoginError,
    cause: String,
    email: Option<String>,
    user: Option<UserRecord>,
}

fn failed(code: LoginError, cause: impl Into<String>) -> Failure {
    Failure {
        code,
        cause: cause.into(),
        email: None,
        user: None,
    }
}

fn sso_failed(cause: impl Into<String>) -> Failure {
    failed(LoginError::SsoFailed, cause)
}

impl Failure {
    fn of(mut self, email: &str, user: Option<&UserRecord>) -> Failure {
        self.email = Some(email.to_owned());
        self.user = user.cloned();
        self
    }
}

/// Text from the provider or the query, made safe for a log line.
fn quoted(text: &str) -> String {
    format!("{:?}", text.chars().take(200).collect::<String>())
}

/// The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// `application/x-www-form-urlencoded` of one value, for HTTP Basic client authentication.
fn form_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A sign-in state as the single-use table keeps it: hashed, never the value.
fn state_key(state: &str) -> String {
    format!(
        "oidc-state:{}",
        hex::encode(Sha256::digest(state.as_bytes()))
    )
}

/// The email's domain is one of `allowed` (or any may sign in).
fn domain_allowed(settings: &OidcSettings, email: &str) -> bool {
    settings.allowed_domains.is_empty()
        || email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| settings.allowed_domains.iter().any(|d| d == domain))
}

impl Services {
    /// `GET /auth/providers`.
    pub fn auth_providers(&self) -> AuthProviders {
        AuthProviders {
            password: true,
            oidc: self.inner.oidc.as_ref().map(|rp| OidcProviderInfo {
                name: rp.settings.name.clone(),
                login_path: OIDC_LOGIN_PATH.to_owned(),
            }),
        }
    }

    /// Fetches the provider's discovery document and keys ahead of the first sign-in, logging
    /// whether that worked: a wrong `DA_OIDC_ISSUER` shows at start-up.
    pub async fn warm_up_sso(&self) {
        let Some(rp) = self.inner.oidc.as_ref() else {
            return;
        };
        let settings = &rp.settings;
        if settings.auto_create && settings.default_role >= Role::KmAdmin {
            tracing::warn!(
                role = %settings.default_role,
                allowed_domains = %settings.allowed_domains.join(","),
                "single sign-on: everyone the identity provider signs in gets an account with this role (DA_OIDC_DEFAULT_ROLE); grant high roles through groups instead"
            );
        }
        match rp.provider.keys(false).await {
            Ok(keys) => tracing::info!(
                issuer = %rp.settings.issuer,
                keys = keys.len(),
                "single sign-on: the identity provider answered"
            ),
            Err(cause) => tracing::error!(
                issuer = %rp.settings.issuer,
                %cause,
                "single sign-on: cannot read the identity provider's documents; sign-ins fail with sso_failed until it answers"
            ),
        }
    }

    /// `GET /auth/oidc/login`: the provider's authorization URL for a new flow, and the flow
    /// cookie binding it to this browser.
    pub async fn begin_sso(&self, next: Option<&str>) -> Result<SsoStart, LoginError> {
        let rp = self
            .inner
            .oidc
            .as_ref()
            .ok_or(LoginError::SsoNotConfigured)?;
        let metadata = rp.provider.metadata().await.map_err(|cause| {
            tracing::error!(issuer = %rp.settings.issuer, %cause, "single sign-on: cannot read the identity provider's discovery document");
            LoginError::SsoFailed
        })?;
        let flow = Flow::start(
            safe_next(next),
            Utc::now() + Duration::seconds(OIDC_FLOW_SECONDS),
        );
        let mut url = url::Url::parse(&metadata.authorization_endpoint).map_err(|e| {
            tracing::error!(error = %e, "single sign-on: the authorization endpoint is no URL");
            LoginError::SsoFailed
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &rp.settings.client_id)
            .append_pair("redirect_uri", &rp.settings.redirect_uri)
            .append_pair("scope", &rp.settings.scopes)
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &challenge(&flow.verifier))
            .append_pair("code_challenge_method", "S256");
        let cookie = rp.flows.seal(&flow).map_err(|e| {
            tracing::error!(error = %e, "single sign-on: cannot seal the flow cookie");
            LoginError::Unavailable
        })?;
        Ok(SsoStart {
            redirect_to: url.into(),
            cookie,
        })
    }

    /// `GET /auth/oidc/callback`: checks everything the provider and the browser sent, finds or
    /// creates the user, syncs their groups and opens a session. Every failure is logged with
    /// its cause and audited (`auth.login_failed`) with its code.
    pub async fn finish_sso(
        &self,
        callback: &SsoCallback,
        flow_cookie: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SsoLogin, LoginError> {
        let rp = self
            .inner
            .oidc
            .as_ref()
            .ok_or(LoginError::SsoNotConfigured)?;
        if let Err(err) = self
            .inner
            .ip_limits
            .check(Bucket::Login, client.ip.as_deref())
        {
            return Err(err.login_error());
        }
        match self.sign_in(rp, callback, flow_cookie, client).await {
            Ok(login) => Ok(login),
            Err(failure) => {
                tracing::warn!(
                    code = failure.code.code(),
                    cause = %failure.cause,
                    email = failure.email.as_deref().unwrap_or("-"),
                    "single sign-on refused"
                );
                self.audit_failed_sso(&failure, client).await;
                Err(failure.code)
            }
        }
    }

    async fn audit_failed_sso(&self, failure: &Failure, client: &ClientInfo) {
        let resource = match &failure.email {
            Some(email) => format!("user:{email}"),
            None => "sso".to_owned(),
        };
        let mut row = audit::record(audit::AUTH_LOGIN_FAILED, resource)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "email": failure.email,
                "method": method::OIDC,
                "reason": failure.code.code(),
            }));
        if let Some(user) = &failure.user {
            row = row.by(user.id, &user.email);
        }
        if let Err(err) = self.inner.store.insert_audit(&row).await {
            tracing::warn!(error = %err, "could not audit a failed single sign-on");
        }
    }

    async fn sign_in(
        &self,
        rp: &RelyingParty,
        callback: &SsoCallback,
        flow_cookie: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SsoLogin, Failure> {
        let claims = self.verified_claims(rp, callback, flow_cookie).await?;
        let (flow, claims) = claims;
        let settings = &rp.settings;

        let raw_email = id_token::string_claim(&claims, "email")
            .ok_or_else(|| failed(LoginError::NoEmail, "no email claim"))?;
        let email = normalize_email(raw_email).map_err(|_| {
            failed(
                LoginError::NoEmail,
                format!("the email claim {} is not an address", quoted(raw_email)),
            )
        })?;
        if id_token::email_verified(&claims) == Some(false) {
            return Err(failed(LoginError::NoEmail, "email_verified is false").of(&email, None));
        }
        if !domain_allowed(settings, &email) {
            return Err(failed(
                LoginError::DomainNotAllowed,
                "the email's domain is not in DA_OIDC_ALLOWED_DOMAINS",
            )
            .of(&email, None));
        }

        let user = self
            .sso_user(settings, &email, &claims, client)
            .await
            .map_err(|f| f.of(&email, None))?;
        if !user.active {
            return Err(
                failed(LoginError::Deactivated, "the account is deactivated")
                    .of(&email, Some(&user)),
            );
        }
        // The account follows the identity it first signed in as: the same email at the same
        // provider under another subject is someone else (a reassigned address).
        let identity = SsoIdentity {
            issuer: settings.issuer.trim_end_matches('/').to_owned(),
            subject: id_token::string_claim(&claims, "sub")
                .unwrap_or_default()
                .to_owned(),
        };
        let linked = self
            .inner
            .store
            .sso_identity_of(user.id)
            .await
            .map_err(|e| {
                failed(
                    LoginError::Unavailable,
                    format!("reading the linked identity: {e}"),
                )
                .of(&email, Some(&user))
            })?;
        if let Some(linked) = linked
            && linked.issuer == identity.issuer
            && linked.subject != identity.subject
        {
            return Err(failed(
                LoginError::SsoFailed,
                format!(
                    "the account is linked to subject {} at this provider, not {}",
                    quoted(&linked.subject),
                    quoted(&identity.subject)
                ),
            )
            .of(&email, Some(&user)));
        }
        if let Some(groups) = id_token::groups_claim(&claims, &settings.groups_claim) {
            let ip = client.ip.clone();
            let actor = (user.id, user.email.clone());
            self.sync_sso_groups(&user, &groups, move |row: AuditRecord| {
                row.by(actor.0, &actor.1).from_ip(ip.as_deref())
            })
            .await
            .map_err(|e| {
                failed(LoginError::Unavailable, format!("group sync: {e:?}"))
                    .of(&email, Some(&user))
            })?;
        }
        let check = LoginCheck {
            approved_in: None,
            password_hash: None,
            sso: Some(identity),
        };
        let session = self
            .start_session(
                &user,
                &check,
                client,
                method::OIDC,
                da_types::LoginClient::Browser,
            )
            .await
            .map_err(|e| {
                let code = match e {
                    Error::Unauthenticated(AuthFailure::AccountDeactivated) => {
                        LoginError::Deactivated
                    }
                    Error::Unauthenticated(_) => LoginError::SsoFailed,
                    _ => LoginError::Unavailable,
                };
                failed(code, format!("opening the session: {e:?}")).of(&email, Some(&user))
            })?;
        if !user.sso {
            // The login marked the user `sso`, which the cached copy does not know yet.
            self.invalidate(&[crate::cache::Invalidation::User(user.id)])
                .await;
        }
        Ok(SsoLogin {
            session,
            next: flow.next,
        })
    }

    /// The flow this callback finishes, and the identity's claims: the ID token's, completed
    /// from UserInfo where it lacks the email or the groups.
    async fn verified_claims(
        &self,
        rp: &RelyingParty,
        callback: &SsoCallback,
        flow_cookie: Option<&str>,
    ) -> Result<(Flow, Map<String, Value>), Failure> {
        let flow = flow_cookie.and_then(|c| rp.flows.open(c)).ok_or_else(|| {
            sso_failed(
                "no valid sign-in cookie: the sign-in took over 10 minutes, or the callback \
                 reached another browser than the one that started it",
            )
        })?;
        if let Some(error) = &callback.error {
            return Err(sso_failed(format!(
                "the identity provider answered error={}",
                quoted(error)
            )));
        }
        let state = callback.state.as_deref().unwrap_or("");
        if !bool::from(state.as_bytes().ct_eq(flow.state.as_bytes())) {
            return Err(sso_failed(
                "the state does not match this browser's sign-in",
            ));
        }
        let metadata = rp
            .provider
            .metadata()
            .await
            .map_err(|e| sso_failed(format!("discovery: {e}")))?;
        if let Some(iss) = &callback.iss
            && iss != &metadata.issuer
        {
            return Err(sso_failed(format!(
                "the callback's iss {} is not the issuer",
                quoted(iss)
            )));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| sso_failed("the callback has no code"))?;
        // One callback, one session: a replayed callback URL stops here, even one that races
        // the first (the store lets exactly one claim win), and even with a provider that would
        // accept a code twice.
        let fresh = self
            .inner
            .store
            .claim_single_use(&state_key(&flow.state), flow.expires_at(), Utc::now())
            .await
            .map_err(|e| failed(LoginError::Unavailable, format!("state claim: {e}")))?;
        if !fresh {
            return Err(sso_failed("this callback was already used (a replay)"));
        }

        let settings = &rp.settings;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", settings.redirect_uri.as_str()),
            ("code_verifier", flow.verifier.as_str()),
        ];
        let (id, secret) = (
            form_encoded(&settings.client_id),
            form_encoded(settings.client_secret.expose()),
        );
        let basic = if metadata.secret_in_form() {
            form.push(("client_id", settings.client_id.as_str()));
            form.push(("client_secret", settings.client_secret.expose()));
            None
        } else {
            Some((id.as_str(), secret.as_str()))
        };
        let reply = rp
            .provider
            .http()
            .post_form(&metadata.token_endpoint, basic, &form)
            .await
            .map_err(|e| sso_failed(format!("token endpoint: {e}")))?;
        let answer: TokenAnswer = json_body("token endpoint", &reply).map_err(sso_failed)?;
        let token = answer
            .id_token
            .ok_or_else(|| sso_failed("the token endpoint sent no id_token"))?;

        let expected = Expected {
            issuer: &metadata.issuer,
            client_id: &settings.client_id,
        };
        let keys = rp.provider.keys(false).await.map_err(sso_failed)?;
        let verified = match id_token::verify(&token, &keys, &expected) {
            Err(Rejection::UnknownKey(_)) => {
                // The provider may have rotated its keys since they were fetched.
                let keys = rp.provider.keys(true).await.map_err(sso_failed)?;
                id_token::verify(&token, &keys, &expected)
            }
            other => other,
        }
        .map_err(|rejection| {
            sso_failed(match rejection {
                Rejection::UnknownKey(kid) => {
                    format!("ID token: signed by the unknown key {}", quoted(&kid))
                }
                Rejection::Invalid(why) => format!("ID token: {why}"),
            })
        })?;
        let nonce_ok = verified
            .nonce
            .as_deref()
            .is_some_and(|n| bool::from(n.as_bytes().ct_eq(flow.nonce.as_bytes())));
        if !nonce_ok {
            return Err(sso_failed("ID token: the nonce is not this sign-in's"));
        }

        let mut claims = verified.all;
        let lacks_email = id_token::string_claim(&claims, "email").is_none();
        let lacks_groups = !claims.contains_key(&settings.groups_claim);
        if (lacks_email || lacks_groups)
            && let (Some(endpoint), Some(access_token)) =
                (&metadata.userinfo_endpoint, &answer.access_token)
        {
            match self
                .userinfo(rp, endpoint, access_token, &verified.sub)
                .await
            {
                Ok(extra) => {
                    for (name, value) in extra {
                        claims.entry(name).or_insert(value);
                    }
                }
                // Without an email there is no sign-in; without groups, memberships stay.
                Err(cause) if lacks_email => return Err(sso_failed(cause)),
                Err(cause) => {
                    tracing::warn!(%cause, "single sign-on: UserInfo failed; group memberships left as they are");
                }
            }
        }
        Ok((flow, claims))
    }

    async fn userinfo(
        &self,
        rp: &RelyingParty,
        endpoint: &str,
        access_token: &str,
        sub: &str,
    ) -> Result<Map<String, Value>, String> {
        let reply = rp
            .provider
            .http()
            .get(endpoint, Some(access_token))
            .await
            .map_err(|e| format!("userinfo: {e}"))?;
        let claims: Map<String, Value> = json_body("userinfo", &reply)?;
        // OpenID Connect Core §5.3.2: UserInfo about anyone else is not about this user.
        if claims.get("sub").and_then(Value::as_str) != Some(sub) {
            return Err("userinfo: its sub is not the ID token's".into());
        }
        Ok(claims)
    }

    /// The user with this email, or a new one when the settings allow.
    async fn sso_user(
        &self,
        settings: &OidcSettings,
        email: &str,
        claims: &Map<String, Value>,
        client: &ClientInfo,
    ) -> Result<UserRecord, Failure> {
        let unavailable = |e: Error| failed(LoginError::Unavailable, format!("store: {e:?}"));
        if let Some(user) = self
            .inner
            .store
            .user_by_email(email)
            .await
            .map_err(|e| unavailable(e.into()))?
        {
            return Ok(user);
        }
        if !settings.auto_create {
            return Err(failed(
                LoginError::NotProvisioned,
                "no such user, and DA_OIDC_AUTO_CREATE is off",
            ));
        }
        let name = id_token::string_claim(claims, "name")
            .and_then(|n| display_name(Some(n), email).ok())
            .unwrap_or_else(|| display_name(None, email).unwrap_or_else(|_| email.to_owned()));
        let now = Utc::now();
        let user = UserRecord {
            id: Uuid::new_v4(),
            email: email.to_owned(),
            name,
            role: settings.default_role,
            active: true,
            password_hash: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            deactivated_at: None,
            deactivated_by: None,
            sso: true,
        };
        let row = audit::record(audit::USER_CREATE, format!("user:{}", user.id))
            .by(user.id, &user.email)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "email": user.email,
                "role": user.role,
                "method": method::OIDC,
            }));
        match self
            .inner
            .store
            .create_user(&user, CreateGuard::EmailFree, None, &row)
            .await
            .map_err(|e| unavailable(e.into()))?
        {
            CreateOutcome::Created => Ok(user),
            // A sign-in of the same person in another tab won the race: use theirs.
            CreateOutcome::EmailTaken | CreateOutcome::AdminExists => self
                .inner
                .store
                .user_by_email(email)
                .await
                .map_err(|e| unavailable(e.into()))?
                .ok_or_else(|| sso_failed("the user vanished while being created")),
        }
    }
}
