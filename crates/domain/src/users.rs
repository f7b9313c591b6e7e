//! User management (`API.md` §5): admins list, create, change, deactivate, delete users and hand
//! out password links. Every safeguard is checked before any write, and checked again by the
//! store inside the write's transaction, so a race cannot leave the system without an admin.

use crate::audit;
use crate::auth::display_name;
use crate::cache::CachedUser;
use crate::error::{Error, detail};
use crate::links::{self, link_mail};
use crate::principal::Principal;
use crate::services::{ClientInfo, Services};
use crate::store::{
    CreateGuard, CreateOutcome, LinkKind, OneTimeToken, SessionSweep, UserFilter, UserRecord,
    UserWrite, WriteOutcome,
};
use chrono::{DateTime, Utc};
use da_types::validation::{normalize_email, validate_password};
use da_types::{
    CreateUserRequest, CreatedUser, ResetLink, Role, SetPasswordRequest, UpdateUserRequest, User,
    UserListParams, UserPage,
};
use uuid::Uuid;

pub const MAX_PAGE: u32 = 1000;
const NAME_MAX_CHARS: usize = 200;

/// A path id that is not a UUID names nothing: the same 404 as an unknown one.
pub fn parse_id(raw: &str, not_found: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::NotFound(not_found.to_owned()))
}

pub fn require_admin(caller: &Principal) -> Result<(), Error> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden(detail::ADMIN_REQUIRED.into()))
    }
}

pub(crate) fn seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

pub fn user_view(user: &UserRecord) -> User {
    User {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
        active: user.active,
        has_password: user.password_hash.is_some(),
        created_at: seconds(user.created_at),
        updated_at: seconds(user.updated_at),
        last_login_at: user.last_login_at.map(seconds),
        deactivated_at: user.deactivated_at.map(seconds),
        deactivated_by: user.deactivated_by,
    }
}

pub(crate) fn parse_role(raw: &str) -> Result<Role, Error> {
    raw.trim()
        .parse::<Role>()
        .map_err(|e| Error::invalid(e.to_string()))
}

fn clean_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid("name must not be blank"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(Error::invalid(format!(
            "name must be at most {NAME_MAX_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

pub(crate) fn parse_limit(raw: Option<&str>, max: u32, default: u32) -> Result<u32, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| Error::invalid(format!("limit must be between 1 and {max}"))),
    }
}

pub(crate) fn parse_offset(raw: Option<&str>) -> Result<u64, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(0),
        Some(raw) => raw
            .parse::<u64>()
            .map_err(|_| Error::invalid("offset must be a non-negative integer")),
    }
}

/// Which change a refused write was, for the right 409 sentence.
#[derive(Clone, Copy)]
enum Change {
    Deactivate,
    Demote,
}

impl Services {
    /// Active admins right now (the safeguards' question).
    async fn active_admins(&self) -> Result<u64, Error> {
        let filter = UserFilter {
            role: Some(Role::Admin),
            active: Some(true),
            limit: 0,
            ..UserFilter::default()
        };
        Ok(self.inner.store.list_users(&filter).await?.1)
    }

    async fn existing_user(&self, id: Uuid) -> Result<UserRecord, Error> {
        self.inner
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound(detail::USER_NOT_FOUND.into()))
    }

    /// Puts the user's new state in the auth cache and marks revoked sessions, so the very next
    /// request sees the change.
    pub(crate) fn refresh_cache(&self, user: &UserRecord, revoked_sessions: &[Uuid]) {
        self.inner
            .cache
            .put_user(user.id, Some(CachedUser::from(user)));
        for id in revoked_sessions {
            self.inner.cache.mark_session_revoked(*id);
        }
    }

    /// `GET /api/users`.
    pub async fn list_users(
        &self,
        caller: &Principal,
        params: &UserListParams,
    ) -> Result<UserPage, Error> {
        require_admin(caller)?;
        let search = params
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        let email = match params.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(normalize_email(raw).map_err(Error::invalid)?),
        };
        let role = match params.role.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(parse_role(raw)?),
        };
        let active = match params.active.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(Error::invalid("active must be true or false")),
        };
        let limit = parse_limit(params.limit.as_deref(), MAX_PAGE, MAX_PAGE)?;
        let offset = parse_offset(params.offset.as_deref())?;
        // An exact email names at most one user: a point lookup on the unique index is far
        // cheaper than counting and sorting (the CLI resolves `USER` arguments this way).
        if let Some(email) = &email {
            let matched: Vec<UserRecord> = self
                .inner
                .store
                .user_by_email(email)
                .await?
                .into_iter()
                .filter(|u| role.is_none_or(|r| u.role == r))
                .filter(|u| active.is_none_or(|a| u.active == a))
                .filter(|u| {
                    search.as_deref().is_none_or(|q| {
                        let q = q.to_lowercase();
                        u.email.contains(&q) || u.name.to_lowercase().contains(&q)
                    })
                })
                .collect();
            let total = matched.len() as u64;
            return Ok(UserPage {
                users: matched
                    .iter()
                    .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                    .map(user_view)
                    .collect(),
                total,
            });
        }
        let filter = UserFilter {
            search,
            email,
            role,
            active,
            limit,
            offset,
        };
        let (users, total) = self.inner.store.list_users(&filter).await?;
        Ok(UserPage {
            users: users.iter().map(user_view).collect(),
            total,
        })
    }

    /// `GET /api/users/{id}`.
    pub async fn get_user(&self, caller: &Principal, id: Uuid) -> Result<User, Error> {
        require_admin(caller)?;
        Ok(user_view(&self.existing_user(id).await?))
    }

    /// `POST /api/users`.
    pub async fn create_user(
        &self,
        caller: &Principal,
        request: &CreateUserRequest,
        client: &ClientInfo,
    ) -> Result<CreatedUser, Error> {
        require_admin(caller)?;
        let email = normalize_email(&request.email).map_err(Error::invalid)?;
        let role = match request.role.as_deref() {
            Some(raw) => parse_role(raw)?,
            None => Role::Analyst,
        };
        let name = match request.name.as_deref() {
            Some(raw) if !raw.trim().is_empty() => clean_name(raw)?,
            _ => display_name(None, &email),
        };
        let password_hash = match request.password.as_deref() {
            Some(password) => {
                validate_password(password).map_err(Error::invalid)?;
                Some(self.inner.hasher.hash(password).await?)
            }
            None => None,
        };
        let now = Utc::now();
        let user = UserRecord {
            id: Uuid::new_v4(),
            email,
            name,
            role,
            active: true,
            password_hash,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            deactivated_at: None,
            deactivated_by: None,
        };
        let invite_secret = if request.send_invite || request.password.is_none() {
            Some(links::new_secret().map_err(|e| Error::Internal(e.to_string()))?)
        } else {
            None
        };
        let invite = invite_secret.as_ref().map(|secret| OneTimeToken {
            user_id: user.id,
            kind: LinkKind::Setup,
            token_hash: links::hash_secret(secret),
            created_at: now,
            expires_at: now + LinkKind::Setup.lifetime(),
        });
        let row = audit::record(audit::USER_CREATE, format!("user:{}", user.id))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "email": user.email,
                "role": user.role,
                "invite": invite.is_some(),
            }));
        match self
            .inner
            .store
            .create_user(&user, CreateGuard::EmailFree, invite.as_ref(), &row)
            .await?
        {
            CreateOutcome::Created => {}
            CreateOutcome::EmailTaken | CreateOutcome::AdminExists => {
                return Err(Error::Conflict(detail::EMAIL_TAKEN.into()));
            }
        }
        self.refresh_cache(&user, &[]);
        let (invite_url, invite_email_sent) = match invite_secret {
            Some(secret) => {
                let url = self.link_url(client, LinkKind::Setup, &user.email, &secret);
                let sent = self.mail_link(&user.email, LinkKind::Setup, &url).await;
                (Some(url), Some(sent))
            }
            None => (None, None),
        };
        Ok(CreatedUser {
            user: user_view(&user),
            invite_url,
            invite_email_sent,
        })
    }

    /// `PATCH /api/users/{id}` (and the activate / deactivate shortcuts).
    pub async fn update_user(
        &self,
        caller: &Principal,
        id: Uuid,
        request: &UpdateUserRequest,
        client: &ClientInfo,
    ) -> Result<User, Error> {
        require_admin(caller)?;
        if request.name.is_none() && request.role.is_none() && request.active.is_none() {
            return Err(Error::invalid(detail::NOTHING_TO_UPDATE));
        }
        let name = request.name.as_deref().map(clean_name).transpose()?;
        let role = request.role.as_deref().map(parse_role).transpose()?;
        let current = self.existing_user(id).await?;

        let deactivating = request.active == Some(false) && current.active;
        let demoting = current.role == Role::Admin && role.is_some_and(|r| r != Role::Admin);
        if deactivating && id == caller.user_id {
            return Err(Error::Conflict(detail::CANNOT_DEACTIVATE_SELF.into()));
        }
        let removes_an_admin =
            current.role == Role::Admin && current.active && (deactivating || demoting);
        if removes_an_admin && self.active_admins().await? <= 1 {
            return Err(last_admin(if deactivating {
                Change::Deactivate
            } else {
                Change::Demote
            }));
        }

        let now = Utc::now();
        let mut user = current.clone();
        let mut changes = serde_json::Map::new();
        if let Some(name) = name.filter(|n| *n != current.name) {
            changes.insert("name".into(), serde_json::json!(name));
            user.name = name;
        }
        if let Some(role) = role.filter(|r| *r != current.role) {
            changes.insert(
                "role".into(),
                serde_json::json!({ "from": current.role, "to": role }),
            );
            user.role = role;
        }
        match request.active {
            Some(false) if current.active => {
                user.active = false;
                user.deactivated_at = Some(now);
                user.deactivated_by = Some(caller.user_id);
                changes.insert("active".into(), serde_json::json!(false));
            }
            Some(true) if !current.active => {
                user.active = true;
                user.deactivated_at = None;
                user.deactivated_by = None;
                changes.insert("active".into(), serde_json::json!(true));
            }
            _ => {}
        }
        if changes.is_empty() {
            return Ok(user_view(&current));
        }
        user.updated_at = now;
        let row = audit::record(audit::USER_UPDATE, format!("user:{id}"))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email, "changes": changes }));
        // Deactivation ends the user's sessions for good: re-activation does not bring them back.
        let write = UserWrite {
            revoke_sessions: deactivating.then_some(SessionSweep {
                at: now,
                except: None,
            }),
            user,
            keep_an_admin: true,
            consume_link: None,
        };
        let revoked = self.written(self.inner.store.write_user(&write, &row).await?, || {
            last_admin(if deactivating {
                Change::Deactivate
            } else {
                Change::Demote
            })
        })?;
        self.refresh_cache(&write.user, &revoked);
        Ok(user_view(&write.user))
    }

    /// Maps a store write's outcome; `last_admin` says which 409 a refused write gets.
    pub(crate) fn written(
        &self,
        outcome: WriteOutcome,
        last_admin: impl FnOnce() -> Error,
    ) -> Result<Vec<Uuid>, Error> {
        match outcome {
            WriteOutcome::Written { revoked_sessions } => Ok(revoked_sessions),
            WriteOutcome::NotFound => Err(Error::NotFound(detail::USER_NOT_FOUND.into())),
            WriteOutcome::LastAdmin => Err(last_admin()),
            WriteOutcome::LinkGone => Err(Error::Internal("unexpected link outcome".into())),
        }
    }

    pub async fn set_user_active(
        &self,
        caller: &Principal,
        id: Uuid,
        active: bool,
        client: &ClientInfo,
    ) -> Result<User, Error> {
        let request = UpdateUserRequest {
            active: Some(active),
            ..UpdateUserRequest::default()
        };
        self.update_user(caller, id, &request, client).await
    }

    /// `DELETE /api/users/{id}`: the user's sessions end with them; their audit rows stay.
    pub async fn delete_user(
        &self,
        caller: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        require_admin(caller)?;
        if id == caller.user_id {
            return Err(Error::Conflict(detail::CANNOT_DELETE_SELF.into()));
        }
        let user = self.existing_user(id).await?;
        if user.role == Role::Admin && user.active && self.active_admins().await? <= 1 {
            return Err(Error::Conflict(detail::CANNOT_DELETE_LAST_ADMIN.into()));
        }
        let row = audit::record(audit::USER_DELETE, format!("user:{id}"))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email, "role": user.role }));
        let outcome = self.inner.store.delete_user(id, Utc::now(), &row).await?;
        let revoked = self.written(outcome, || {
            Error::Conflict(detail::CANNOT_DELETE_LAST_ADMIN.into())
        })?;
        self.inner.cache.put_user(id, None);
        for session in revoked {
            self.inner.cache.mark_session_revoked(session);
        }
        Ok(())
    }

    /// `POST /api/users/{id}/reset-password`: a fresh reset link (replacing a pending one),
    /// mailed when SMTP is configured and always returned to the admin.
    pub async fn issue_reset_link(
        &self,
        caller: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<ResetLink, Error> {
        require_admin(caller)?;
        let user = self.existing_user(id).await?;
        let secret = self
            .put_reset_link(&user, |row| {
                row.by_principal(caller)
                    .from_ip(client.ip.as_deref())
                    .with_params(serde_json::json!({ "email": user.email, "issued_by": "admin" }))
            })
            .await?;
        let reset_url = self.link_url(client, LinkKind::Reset, &user.email, &secret);
        let email_sent = self
            .mail_link(&user.email, LinkKind::Reset, &reset_url)
            .await;
        Ok(ResetLink {
            reset_url,
            email_sent,
        })
    }

    /// Makes and stores a new reset link for `user` (audited as `user.reset_password`);
    /// returns its secret.
    pub(crate) async fn put_reset_link(
        &self,
        user: &UserRecord,
        describe: impl FnOnce(crate::store::AuditRecord) -> crate::store::AuditRecord,
    ) -> Result<String, Error> {
        let secret = links::new_secret().map_err(|e| Error::Internal(e.to_string()))?;
        let now = Utc::now();
        let link = OneTimeToken {
            user_id: user.id,
            kind: LinkKind::Reset,
            token_hash: links::hash_secret(&secret),
            created_at: now,
            expires_at: now + LinkKind::Reset.lifetime(),
        };
        let row = describe(audit::record(
            audit::USER_RESET_PASSWORD,
            format!("user:{}", user.id),
        ));
        self.inner.store.put_link(&link, &row).await?;
        Ok(secret)
    }

    /// `POST /api/users/{id}/set-password`: the user's sessions end.
    pub async fn set_user_password(
        &self,
        caller: &Principal,
        id: Uuid,
        request: &SetPasswordRequest,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        require_admin(caller)?;
        validate_password(&request.password).map_err(Error::invalid)?;
        let mut user = self.existing_user(id).await?;
        user.password_hash = Some(self.inner.hasher.hash(&request.password).await?);
        let now = Utc::now();
        user.updated_at = now;
        let row = audit::record(audit::USER_SET_PASSWORD, format!("user:{id}"))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email }));
        let write = UserWrite {
            user,
            keep_an_admin: false,
            revoke_sessions: Some(SessionSweep {
                at: now,
                except: None,
            }),
            consume_link: None,
        };
        let outcome = self.inner.store.write_user(&write, &row).await?;
        let revoked = self.written(outcome, || Error::Internal("unexpected".into()))?;
        self.refresh_cache(&write.user, &revoked);
        Ok(())
    }

    /// This server's base URL for links and scripts: `DA_PUBLIC_URL` when set, else the origin
    /// the request came to (when its Host header was sane).
    pub(crate) fn public_base_url<'a>(&'a self, client: &'a ClientInfo) -> Option<&'a str> {
        self.inner
            .config
            .public_url
            .as_deref()
            .or(client.origin.as_deref())
    }

    /// The link's URL: `DA_PUBLIC_URL` when set, else the origin the request came to.
    pub(crate) fn link_url(
        &self,
        client: &ClientInfo,
        kind: LinkKind,
        email: &str,
        secret: &str,
    ) -> String {
        let base = self
            .public_base_url(client)
            .unwrap_or("http://localhost:8000");
        links::link_url(base, kind, email, secret)
    }

    /// Mails a link when SMTP is configured; whether it went out.
    pub(crate) async fn mail_link(&self, to: &str, kind: LinkKind, url: &str) -> bool {
        let Some(mailer) = &self.inner.mailer else {
            return false;
        };
        let (subject, body) = link_mail(kind, url);
        match tokio::time::timeout(
            std::time::Duration::from_secs(15),
            mailer.send(to, subject, &body),
        )
        .await
        {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, kind = kind.as_str(), "could not mail a link");
                false
            }
            Err(_) => {
                tracing::warn!(kind = kind.as_str(), "mail server did not answer in 15 s");
                false
            }
        }
    }
}

fn last_admin(change: Change) -> Error {
    Error::Conflict(
        match change {
            Change::Deactivate => detail::CANNOT_DEACTIVATE_LAST_ADMIN,
            Change::Demote => detail::CANNOT_DEMOTE_LAST_ADMIN,
        }
        .into(),
    )
}
