//! User management (`API.md` §5): admins list, create, change, deactivate, delete users and hand
//! out password links. Every safeguard is checked before any write, and checked again by the
//! store inside the write's transaction, so a race cannot leave the system without an admin.
//! Writes name only the columns they change.

use crate::audit;
use crate::cache::{CachedUser, Invalidation};
use crate::error::{Error, detail};
use crate::links;
use crate::params::{
    display_name, parse_bool, parse_limit, parse_offset, parse_role, seconds, text_filter,
    user_name,
};
use crate::policy::Admin;
use crate::services::{ClientInfo, Services};
use crate::store::{
    ActiveChange, CreateGuard, CreateOutcome, DeleteOutcome, LinkKind, OneTimeToken, SessionSweep,
    UpdateOutcome, UserChange, UserFilter, UserRecord,
};
use chrono::{DateTime, Utc};
use da_types::paging::USERS_MAX;
use da_types::validation::{normalize_email, validate_password};
use da_types::{
    CreateUserRequest, CreatedUser, InviteLink, ResetLink, Role, SetPasswordRequest,
    UpdateUserRequest, User, UserListParams, UserPage,
};
use uuid::Uuid;

/// The wire form of a user whose effective role is known.
pub fn user_view(user: &UserRecord, effective_role: Role) -> User {
    User {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
        effective_role,
        active: user.active,
        has_password: user.password_hash.is_some(),
        invited: user.is_invited(),
        created_at: seconds(user.created_at),
        updated_at: seconds(user.updated_at),
        last_login_at: user.last_login_at.map(seconds),
        deactivated_at: user.deactivated_at.map(seconds),
        deactivated_by: user.deactivated_by,
        sso: user.sso,
    }
}

/// Which change a refused write was, for the right 409 sentence.
#[derive(Clone, Copy)]
enum Removal {
    Deactivate,
    Demote,
}

fn last_admin(removal: Removal) -> Error {
    Error::Conflict(
        match removal {
            Removal::Deactivate => detail::CANNOT_DEACTIVATE_LAST_ADMIN,
            Removal::Demote => detail::CANNOT_DEMOTE_LAST_ADMIN,
        }
        .into(),
    )
}

impl Services {
    /// Users as the API shows them, each with their effective role (one query for the page).
    pub(crate) async fn user_views(&self, users: &[UserRecord]) -> Result<Vec<User>, Error> {
        let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
        let granted = self.inner.store.group_roles_of_users(&ids).await?;
        Ok(users
            .iter()
            .map(|user| {
                let effective = crate::principal::effective_role(
                    user.role,
                    granted
                        .iter()
                        .filter(|(id, _)| *id == user.id)
                        .map(|(_, role)| *role),
                );
                user_view(user, effective)
            })
            .collect())
    }

    pub(crate) async fn user_view_of(&self, user: &UserRecord) -> Result<User, Error> {
        Ok(self.user_views(std::slice::from_ref(user)).await?.remove(0))
    }

    async fn existing_user(&self, id: Uuid) -> Result<UserRecord, Error> {
        self.inner
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound(detail::USER_NOT_FOUND.into()))
    }

    /// Applies a column-scoped change and brings the auth cache up to date with what was
    /// written. `refused` maps the safeguard outcomes to this caller's error.
    pub(crate) async fn change_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &UserChange,
        row: &crate::store::AuditRecord,
        refused: impl FnOnce(UpdateOutcome) -> Error,
    ) -> Result<UserRecord, Error> {
        let ticket = self.inner.cache.ticket();
        let outcome = self.inner.store.update_user(id, at, change, row).await?;
        let (user, revoked) = match outcome {
            UpdateOutcome::Written {
                user,
                revoked_sessions,
            } => (user, revoked_sessions),
            UpdateOutcome::NotFound => {
                return Err(Error::NotFound(detail::USER_NOT_FOUND.into()));
            }
            other => return Err(refused(other)),
        };
        // The write has committed: its revocations reach the cache whatever happens next. A
        // write that ended sessions changed the account itself (deactivated, new password):
        // its entry goes first, so no request finds the account still valid with its session
        // already gone (§1 ranks the account's state above the session's), and the next
        // request reads it afresh.
        if !revoked.is_empty() {
            let mut stale = vec![Invalidation::User(id)];
            stale.extend(revoked.into_iter().map(Invalidation::Session));
            self.invalidate(&stale).await;
            return Ok(user);
        }
        // The change touched no membership: what the cache needs is the row plus the groups.
        // Should that read fail, the user's entry is dropped instead, and the next request
        // reads it afresh; the change itself was made, so the caller hears success.
        match self.inner.store.groups_of_user(id).await {
            Ok(groups) => {
                let cached = CachedUser::new(&user, groups.iter().map(|(g, _)| g.id).collect());
                self.inner
                    .cache
                    .write_through_user(&ticket, id, Some(cached));
                self.tell_replicas(&[Invalidation::User(id)]).await;
            }
            Err(err) => {
                tracing::warn!(user_id = %id, error = %err, "reading groups after a user change failed");
                self.invalidate(&[Invalidation::User(id)]).await;
            }
        }
        Ok(user)
    }

    /// `GET /api/users`.
    pub async fn list_users(
        &self,
        _admin: &Admin,
        params: &UserListParams,
    ) -> Result<UserPage, Error> {
        let search = text_filter(params.q.as_deref());
        let email = match params.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(normalize_email(raw).map_err(Error::invalid)?),
        };
        let role = match params.role.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(parse_role(raw)?),
        };
        let active = parse_bool(params.active.as_deref(), "active")?;
        let limit = parse_limit(params.limit.as_deref(), USERS_MAX, USERS_MAX)?;
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
            let page: Vec<UserRecord> = matched
                .into_iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .collect();
            return Ok(UserPage {
                users: self.user_views(&page).await?,
                total,
            });
        }
        let filter = UserFilter {
            search,
            email,
            role,
            active,
            has_password: None,
            limit,
            offset,
        };
        let (users, total) = self.inner.store.list_users(&filter).await?;
        Ok(UserPage {
            users: self.user_views(&users).await?,
            total,
        })
    }

    /// `GET /api/users/{id}`.
    pub async fn get_user(&self, _admin: &Admin, id: Uuid) -> Result<User, Error> {
        self.user_view_of(&self.existing_user(id).await?).await
    }

    /// `POST /api/users`.
    pub async fn create_user(
        &self,
        admin: &Admin,
        request: &CreateUserRequest,
        client: &ClientInfo,
    ) -> Result<CreatedUser, Error> {
        let email = normalize_email(&request.email).map_err(Error::invalid)?;
        let role = match request.role.as_deref() {
            Some(raw) => parse_role(raw)?,
            None => Role::Analyst,
        };
        let name = display_name(request.name.as_deref(), &email)?;
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
            sso: false,
        };
        let invite_secret = if request.send_invite || request.password.is_none() {
            Some(links::new_secret().map_err(Error::internal)?)
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
            .by_principal(admin.principal())
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
        // A cached "no such user" from before must not outlive the insert.
        self.invalidate(&[Invalidation::User(user.id)]).await;
        let (invite_url, invite_email_sent) = match invite_secret {
            Some(secret) => {
                let url = self.link_url(client, LinkKind::Setup, &user.email, &secret);
                let sent = self.mail_link(&user.email, LinkKind::Setup, &secret).await;
                (Some(url), Some(sent))
            }
            None => (None, None),
        };
        Ok(CreatedUser {
            user: user_view(&user, user.role),
            invite_url,
            invite_email_sent,
        })
    }

    /// `PATCH /api/users/{id}` (and the activate / deactivate shortcuts).
    pub async fn update_user(
        &self,
        admin: &Admin,
        id: Uuid,
        request: &UpdateUserRequest,
        client: &ClientInfo,
    ) -> Result<User, Error> {
        if request.name.is_none() && request.role.is_none() && request.active.is_none() {
            return Err(Error::invalid(detail::NOTHING_TO_UPDATE));
        }
        let name = request.name.as_deref().map(user_name).transpose()?;
        let role = request.role.as_deref().map(parse_role).transpose()?;
        let current = self.existing_user(id).await?;

        let deactivating = request.active == Some(false) && current.active;
        let demoting = current.role == Role::Admin && role.is_some_and(|r| r != Role::Admin);
        if deactivating && id == admin.user_id() {
            return Err(Error::Conflict(detail::CANNOT_DEACTIVATE_SELF.into()));
        }
        let removal = if deactivating {
            Removal::Deactivate
        } else {
            Removal::Demote
        };
        let removes_an_admin =
            current.role == Role::Admin && current.active && (deactivating || demoting);
        if removes_an_admin && self.inner.store.count_active_admins().await? <= 1 {
            return Err(last_admin(removal));
        }

        let now = Utc::now();
        let mut change = UserChange {
            keep_an_admin: true,
            ..UserChange::default()
        };
        let mut changes = serde_json::Map::new();
        if let Some(name) = name.filter(|n| *n != current.name) {
            changes.insert("name".into(), serde_json::json!(name));
            change.name = Some(name);
        }
        if let Some(role) = role.filter(|r| *r != current.role) {
            changes.insert(
                "role".into(),
                serde_json::json!({ "from": current.role, "to": role }),
            );
            change.role = Some(role);
        }
        match request.active {
            Some(false) if current.active => {
                change.active = Some(ActiveChange::Deactivate {
                    by: admin.user_id(),
                });
                // Deactivation ends the user's sessions for good: re-activation does not
                // bring them back.
                change.revoke_sessions = Some(SessionSweep {
                    at: now,
                    except: None,
                });
                changes.insert("active".into(), serde_json::json!(false));
            }
            Some(true) if !current.active => {
                change.active = Some(ActiveChange::Activate);
                changes.insert("active".into(), serde_json::json!(true));
            }
            _ => {}
        }
        if changes.is_empty() {
            return self.user_view_of(&current).await;
        }
        let row = audit::record(audit::USER_UPDATE, format!("user:{id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": current.email, "changes": changes }));
        let user = self
            .change_user(id, now, &change, &row, |outcome| match outcome {
                UpdateOutcome::LastAdmin => last_admin(removal),
                other => Error::internal(format!("unexpected outcome {other:?}")),
            })
            .await?;
        self.user_view_of(&user).await
    }

    pub async fn set_user_active(
        &self,
        admin: &Admin,
        id: Uuid,
        active: bool,
        client: &ClientInfo,
    ) -> Result<User, Error> {
        let request = UpdateUserRequest {
            active: Some(active),
            ..UpdateUserRequest::default()
        };
        self.update_user(admin, id, &request, client).await
    }

    /// `DELETE /api/users/{id}`: the user's sessions and tokens end with them; their audit
    /// rows stay.
    pub async fn delete_user(
        &self,
        admin: &Admin,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        if id == admin.user_id() {
            return Err(Error::Conflict(detail::CANNOT_DELETE_SELF.into()));
        }
        let user = self.existing_user(id).await?;
        if user.role == Role::Admin
            && user.active
            && self.inner.store.count_active_admins().await? <= 1
        {
            return Err(Error::Conflict(detail::CANNOT_DELETE_LAST_ADMIN.into()));
        }
        let row = audit::record(audit::USER_DELETE, format!("user:{id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email, "role": user.role }));
        match self.inner.store.delete_user(id, Utc::now(), &row).await? {
            DeleteOutcome::Deleted {
                revoked_sessions,
                revoked_tokens,
            } => {
                let mut stale = vec![Invalidation::User(id)];
                stale.extend(revoked_sessions.into_iter().map(Invalidation::Session));
                stale.extend(revoked_tokens.into_iter().map(Invalidation::Token));
                self.invalidate(&stale).await;
                Ok(())
            }
            DeleteOutcome::NotFound => Err(Error::NotFound(detail::USER_NOT_FOUND.into())),
            DeleteOutcome::LastAdmin => {
                Err(Error::Conflict(detail::CANNOT_DELETE_LAST_ADMIN.into()))
            }
        }
    }

    /// `POST /api/users/{id}/reset-password`: a fresh reset link (replacing a pending one),
    /// mailed when SMTP is configured and always returned to the admin.
    pub async fn issue_reset_link(
        &self,
        admin: &Admin,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<ResetLink, Error> {
        let user = self.existing_user(id).await?;
        let secret = self
            .put_new_link(&user, LinkKind::Reset, None, |row| {
                row.by_principal(admin.principal())
                    .from_ip(client.ip.as_deref())
                    .with_params(serde_json::json!({ "email": user.email, "issued_by": da_types::audit::issued_by::ADMIN }))
            })
            .await?
            .ok_or_else(|| Error::internal("a reset link without cooldown was not stored"))?;
        let reset_url = self.link_url(client, LinkKind::Reset, &user.email, &secret);
        let email_sent = self.mail_link(&user.email, LinkKind::Reset, &secret).await;
        Ok(ResetLink {
            reset_url,
            email_sent,
        })
    }

    /// `POST /api/users/{id}/invite`: a fresh setup link for an invited user who has not chosen
    /// a password yet (replacing the pending one), mailed when SMTP is configured.
    pub async fn resend_invite(
        &self,
        admin: &Admin,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<InviteLink, Error> {
        let user = self.existing_user(id).await?;
        if user.password_hash.is_some() {
            return Err(Error::Conflict(detail::ALREADY_HAS_PASSWORD.into()));
        }
        if !user.active {
            return Err(Error::Conflict(detail::INVITE_DEACTIVATED.into()));
        }
        let secret = self
            .put_new_link(&user, LinkKind::Setup, None, |row| {
                row.by_principal(admin.principal())
                    .from_ip(client.ip.as_deref())
                    .with_params(serde_json::json!({ "email": user.email }))
            })
            .await?
            .ok_or_else(|| Error::internal("an invite without cooldown was not stored"))?;
        let invite_url = self.link_url(client, LinkKind::Setup, &user.email, &secret);
        let email_sent = self.mail_link(&user.email, LinkKind::Setup, &secret).await;
        Ok(InviteLink {
            invite_url,
            email_sent,
        })
    }

    /// `POST /api/users/{id}/set-password`: the user's sessions end.
    pub async fn set_user_password(
        &self,
        admin: &Admin,
        id: Uuid,
        request: &SetPasswordRequest,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        validate_password(&request.password).map_err(Error::invalid)?;
        let user = self.existing_user(id).await?;
        let now = Utc::now();
        let change = UserChange {
            password_hash: Some(self.inner.hasher.hash(&request.password).await?),
            revoke_sessions: Some(SessionSweep {
                at: now,
                except: None,
            }),
            ..UserChange::default()
        };
        let row = audit::record(audit::USER_SET_PASSWORD, format!("user:{id}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "email": user.email }));
        self.change_user(id, now, &change, &row, |outcome| {
            Error::internal(format!("unexpected outcome {outcome:?}"))
        })
        .await?;
        Ok(())
    }
}
