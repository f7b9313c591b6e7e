//! Password flows (`API.md` §3): "forgot password", reset and setup links, changing your own.
//! Each writes the password hash (and, for an invite, the name) and nothing else, so a role
//! change or deactivation racing it survives.

use crate::audit;
use crate::brakes::Bucket;
use crate::error::{Error, detail};
use crate::links;
use crate::params::display_name;
use crate::policy::Interactive;
use crate::services::{ClientInfo, Services};
use crate::store::{LinkKind, LoginCheck, SessionSweep, UpdateOutcome, UserChange};
use chrono::{Duration, Utc};
use da_types::audit::{issued_by, via};
use da_types::detail::AuthFailure;
use da_types::validation::{normalize_email, validate_password};
use da_types::{
    ChangePasswordRequest, MessageResponse, ResetConfirmRequest, ResetRequest, SetupRequest,
    TokenResponse,
};

/// At most one self-service reset link is made (and mailed) per account in this window:
/// nobody can flood an inbox or keep replacing a victim's pending link.
pub const RESET_COOLDOWN: Duration = Duration::minutes(5);

impl Services {
    /// `POST /auth/password/reset`: the same answer, at the same speed, whether or not the
    /// email is registered; the work happens after the response. Without SMTP no link is made
    /// at all (it could reach nobody, and would replace one an admin handed over), and the
    /// answer says so.
    pub fn request_password_reset(
        &self,
        request: &ResetRequest,
        client: &ClientInfo,
    ) -> Result<MessageResponse, Error> {
        self.inner
            .ip_limits
            .check(Bucket::Reset, client.ip.as_deref())?;
        let email = normalize_email(&request.email).map_err(Error::invalid)?;
        if self.inner.mailer.is_none() {
            return Ok(MessageResponse {
                message: detail::RESET_NOT_SET_UP.into(),
            });
        }
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
        if user.sso && user.password_hash.is_none() {
            // A password would be a way in that the identity provider's off-boarding and
            // second factors never see. An admin can still hand one a link on purpose.
            tracing::info!(
                "a password reset was asked for an account that signs in with single sign-on; ignored"
            );
            return Ok(());
        }
        let cooldown = Utc::now() - RESET_COOLDOWN;
        let secret = self
            .put_new_link(&user, LinkKind::Reset, Some(cooldown), |row| {
                row.by(user.id, &user.email)
                    .from_ip(client.ip.as_deref())
                    .with_params(serde_json::json!({
                        "email": user.email,
                        "issued_by": issued_by::SELF,
                        "delivery": "email",
                    }))
            })
            .await?;
        let Some(secret) = secret else {
            tracing::info!("a password reset was asked for again within the cooldown; ignored");
            return Ok(());
        };
        self.mail_link(&user.email, LinkKind::Reset, &secret).await;
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
        // An invitee chooses a name; an empty one keeps the current.
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => Some(display_name(Some(name), &email)?),
            None => None,
        };
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
        let password_hash = self.inner.hasher.hash(password).await?;
        let via = match kind {
            LinkKind::Reset => via::RESET_LINK,
            LinkKind::Setup => via::SETUP_LINK,
        };
        let row = audit::record(audit::USER_PASSWORD_CHANGED, format!("user:{}", user.id))
            .by(user.id, &user.email)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email, "via": via }));
        let change = UserChange {
            name,
            password_hash: Some(password_hash.clone()),
            require_active: true,
            revoke_sessions: Some(SessionSweep {
                at: now,
                except: None,
            }),
            // Consumed by the same transaction: of two concurrent confirms exactly one wins.
            consume_link: Some((kind, link.token_hash)),
            ..UserChange::default()
        };
        let written = self
            .change_user(user.id, now, &change, &row, |outcome| match outcome {
                UpdateOutcome::Inactive => Error::Forbidden(detail::ACCOUNT_DEACTIVATED.into()),
                _ => invalid(),
            })
            .await;
        let user = match written {
            Ok(user) => user,
            Err(Error::NotFound(_)) => return Err(invalid()),
            Err(err) => return Err(err),
        };
        // The link proved the account: this client starts afresh with it.
        self.account_proved(&user.email, client).await;
        let check = LoginCheck {
            approved_in: None,
            password_hash: Some(password_hash),
            sso: None,
        };
        self.start_session(
            &user,
            &check,
            client,
            da_types::audit::method::LINK,
            da_types::LoginClient::Browser,
        )
        .await
    }

    /// `POST /api/me/password`: needs the current password, which is checked behind the same
    /// brakes as a login; every other session ends.
    pub async fn change_own_password(
        &self,
        caller: &Interactive,
        request: &ChangePasswordRequest,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let principal = caller.principal();
        validate_password(&request.new_password).map_err(Error::invalid)?;
        let attempt = self.begin_password_check(&principal.email, client)?;
        let user = self
            .inner
            .store
            .user_by_id(principal.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserNotFound))?;
        let verified = self
            .inner
            .hasher
            .verify(&request.current_password, user.password_hash.as_deref())
            .await?;
        self.finish_password_check(attempt, &principal.email, client, verified)
            .await;
        if !verified {
            return Err(Error::invalid(detail::CURRENT_PASSWORD_INCORRECT));
        }
        let now = Utc::now();
        let change = UserChange {
            password_hash: Some(self.inner.hasher.hash(&request.new_password).await?),
            require_active: true,
            revoke_sessions: Some(SessionSweep {
                at: now,
                except: Some(caller.session_id()),
            }),
            ..UserChange::default()
        };
        let row = audit::record(audit::USER_PASSWORD_CHANGED, format!("user:{}", user.id))
            .by_principal(principal)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email, "via": via::SELF }));
        match self
            .change_user(user.id, now, &change, &row, |outcome| match outcome {
                UpdateOutcome::Inactive => Error::Unauthenticated(AuthFailure::AccountDeactivated),
                other => Error::internal(format!("unexpected outcome {other:?}")),
            })
            .await
        {
            // Deleted while the hash was made: as for any request of a deleted user.
            Err(Error::NotFound(_)) => Err(Error::Unauthenticated(AuthFailure::UserNotFound)),
            other => other.map(|_| ()),
        }
    }
}
