//! Password flows (`API.md` §3): "forgot password", reset and setup links, changing your own.

use crate::audit;
use crate::error::{Error, detail};
use crate::links;
use crate::principal::Principal;
use crate::services::{ClientInfo, Services};
use crate::store::{LinkKind, SessionSweep, UserRecord, UserWrite, WriteOutcome};
use crate::throttle::Bucket;
use chrono::Utc;
use da_types::validation::{normalize_email, validate_password};
use da_types::{
    ChangePasswordRequest, MessageResponse, ResetConfirmRequest, ResetRequest, SetupRequest,
    TokenResponse,
};

impl Services {
    /// `POST /auth/password/reset`: the same answer, at the same speed, whether or not the
    /// email is registered; the work happens after the response.
    pub fn request_password_reset(
        &self,
        request: &ResetRequest,
        client: &ClientInfo,
    ) -> Result<MessageResponse, Error> {
        self.inner
            .ip_limits
            .check(Bucket::Reset, client.ip.as_deref())?;
        let email = normalize_email(&request.email).map_err(Error::invalid)?;
        let services = self.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(err) = services.send_reset_link(&email, &client).await {
                tracing::warn!(error = %err, "could not create a password reset link");
            }
        });
        Ok(MessageResponse {
            message: detail::RESET_REQUESTED.into(),
        })
    }

    async fn send_reset_link(&self, email: &str, client: &ClientInfo) -> Result<(), Error> {
        let Some(user) = self.inner.store.user_by_email(email).await? else {
            return Ok(());
        };
        if !user.active {
            return Ok(());
        }
        let delivery = if self.inner.mailer.is_some() {
            "email"
        } else {
            "none"
        };
        let secret = self
            .put_reset_link(&user, |row| {
                row.by(user.id, &user.email)
                    .from_ip(client.ip.as_deref())
                    .with_params(serde_json::json!({
                        "email": user.email,
                        "issued_by": "self",
                        "delivery": delivery,
                    }))
            })
            .await?;
        if self.inner.mailer.is_none() {
            tracing::info!(
                "a password reset was requested but DA_SMTP_URL is not set: an administrator \
                 can issue a reset link instead"
            );
            return Ok(());
        }
        let url = self.link_url(client, LinkKind::Reset, &user.email, &secret);
        self.mail_link(&user.email, LinkKind::Reset, &url).await;
        Ok(())
    }

    /// `POST /auth/password/reset/confirm`: consumes the link, sets the password, ends every
    /// other session and signs the user in.
    pub async fn confirm_password_reset(
        &self,
        request: &ResetConfirmRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        self.redeem_link(
            LinkKind::Reset,
            &request.email,
            &request.token,
            &request.password,
            None,
            client,
        )
        .await
    }

    /// `POST /auth/password/setup`: the invite link's twin of a reset.
    pub async fn complete_setup(
        &self,
        request: &SetupRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        self.redeem_link(
            LinkKind::Setup,
            &request.email,
            &request.token,
            &request.password,
            request.name.as_deref(),
            client,
        )
        .await
    }

    async fn redeem_link(
        &self,
        kind: LinkKind,
        email: &str,
        secret: &str,
        password: &str,
        name: Option<&str>,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        self.inner
            .ip_limits
            .check(Bucket::Login, client.ip.as_deref())?;
        let invalid = || {
            Error::invalid(match kind {
                LinkKind::Reset => detail::INVALID_RESET_LINK,
                LinkKind::Setup => detail::INVALID_SETUP_LINK,
            })
        };
        validate_password(password).map_err(Error::invalid)?;
        let email = normalize_email(email).map_err(|_| invalid())?;
        let user = self
            .inner
            .store
            .user_by_email(&email)
            .await?
            .ok_or_else(invalid)?;
        let link = self
            .inner
            .store
            .link(user.id, kind)
            .await?
            .ok_or_else(invalid)?;
        let now = Utc::now();
        if link.expires_at <= now || !links::secret_matches(secret.trim(), &link.token_hash) {
            return Err(invalid());
        }
        if !user.active {
            return Err(Error::Forbidden(detail::ACCOUNT_DEACTIVATED.into()));
        }
        let mut updated = user.clone();
        updated.password_hash = Some(self.inner.hasher.hash(password).await?);
        updated.updated_at = now;
        if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
            updated.name = name.chars().take(200).collect();
        }
        let via = match kind {
            LinkKind::Reset => "reset_link",
            LinkKind::Setup => "setup_link",
        };
        let row = audit::record(audit::USER_PASSWORD_CHANGED, format!("user:{}", user.id))
            .by(user.id, &user.email)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email, "via": via }));
        let write = UserWrite {
            user: updated,
            keep_an_admin: false,
            revoke_sessions: Some(SessionSweep {
                at: now,
                except: None,
            }),
            // Consumed by the same transaction: of two concurrent confirms exactly one wins.
            consume_link: Some((kind, link.token_hash)),
        };
        let revoked = match self.inner.store.write_user(&write, &row).await? {
            WriteOutcome::LinkGone | WriteOutcome::NotFound => return Err(invalid()),
            outcome => self.written(outcome, || Error::Internal("unexpected".into()))?,
        };
        self.refresh_cache(&write.user, &revoked);
        self.inner.backoff.succeeded(&write.user.email);
        self.start_session(&write.user, client, audit::AUTH_LOGIN)
            .await
    }

    /// `POST /api/me/password`: needs the current password; every other session ends.
    pub async fn change_own_password(
        &self,
        caller: &Principal,
        request: &ChangePasswordRequest,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let session_id = caller
            .session_id()
            .ok_or_else(|| Error::Forbidden(detail::SESSION_REQUIRED.into()))?;
        validate_password(&request.new_password).map_err(Error::invalid)?;
        let user = self
            .inner
            .store
            .user_by_id(caller.user_id)
            .await?
            .ok_or(Error::Unauthenticated(detail::USER_NOT_FOUND))?;
        let verified = self
            .inner
            .hasher
            .verify(&request.current_password, user.password_hash.as_deref())
            .await?;
        if !verified {
            return Err(Error::invalid(detail::CURRENT_PASSWORD_INCORRECT));
        }
        let now = Utc::now();
        let mut updated: UserRecord = user;
        updated.password_hash = Some(self.inner.hasher.hash(&request.new_password).await?);
        updated.updated_at = now;
        let row = audit::record(audit::USER_PASSWORD_CHANGED, format!("user:{}", updated.id))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": updated.email, "via": "self" }));
        let write = UserWrite {
            user: updated,
            keep_an_admin: false,
            revoke_sessions: Some(SessionSweep {
                at: now,
                except: Some(session_id),
            }),
            consume_link: None,
        };
        let outcome = self.inner.store.write_user(&write, &row).await?;
        let revoked = self.written(outcome, || Error::Internal("unexpected".into()))?;
        self.refresh_cache(&write.user, &revoked);
        Ok(())
    }
}
