//! [`Store`] for [`PgStore`]: each method is a `read!` or a `write!` calling the SQL of its
//! concern. Guards that refuse a change roll the whole transaction back. They are the DuckDB
//! store's guards in the same order: the writers' lock (see `pool`) makes them just as atomic
//! here, across replicas too.

use crate::pool::{Finish, PgStore, read, write};
use crate::{audit, datasets, devices, groups, links, notify, sessions, tokens, users};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use da_domain::cache::Invalidation;
use da_domain::store::{
    ActivityStamp, AddMemberOutcome, AuditFilter, AuditRecord, CreateGuard, CreateOutcome,
    DatasetChange, DatasetRecord, DeleteOutcome, DeviceDecision, DeviceGrantRecord, DevicePoll,
    GrantOutcome, GroupChange, GroupFilter, GroupOutcome, GroupRecord, LinkKind, LoginCheck,
    LoginOutcome, MemberRecord, OneTimeToken, PasswordNews, RefreshOutcome, RefreshRecord,
    RefreshRotation, RemoteChange, RemoveMemberOutcome, SessionRecord, SessionSweep, SsoIdentity,
    Store, StoreError, SyncAudit, TokenFilter, TokenPage, TokenRecord, UpdateOutcome, UserChange,
    UserFilter, UserRecord,
};
use da_types::{MembershipSource, Role};
use uuid::Uuid;

/// Serialised behind the writers' lock (a write that checks before it changes).
const CHECKED: bool = true;
/// No check to race: a primary key or a monotonic update decides.
const UNCHECKED: bool = false;

fn gone(what: &str) -> crate::rows::DbError {
    crate::rows::DbError::Bad(crate::rows::BadValue::new(
        "id",
        format!("the {what} written in this transaction is not there"),
    ))
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(PgStore::schema_version(self))
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        read!(self, |db| users::count(db, ""))
    }

    async fn count_admins(&self) -> Result<u64, StoreError> {
        read!(self, |db| users::count(db, users::ADMINS))
    }

    async fn count_active_admins(&self) -> Result<u64, StoreError> {
        read!(self, |db| users::count(db, users::ACTIVE_ADMINS))
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        read!(self, |db| users::by_id(db, id))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        read!(self, |db| users::by_email(db, email))
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<(Vec<UserRecord>, u64), StoreError> {
        read!(self, |db| users::list(db, filter))
    }

    async fn create_user(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        invite: Option<&OneTimeToken>,
        audit: &AuditRecord,
    ) -> Result<CreateOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if guard == CreateGuard::NoAdmin && users::count(&tx, users::ADMINS).await? > 0 {
                return Ok(Finish::Refused(CreateOutcome::AdminExists));
            }
            if !users::insert(&tx, user).await? {
                return Ok(Finish::Refused(CreateOutcome::EmailTaken));
            }
            if let Some(invite) = invite {
                links::replace(&tx, invite).await?;
            }
            Ok(Finish::Audited(CreateOutcome::Created))
        })
    }

    async fn update_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &UserChange,
        audit: &AuditRecord,
    ) -> Result<UpdateOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if let Some((kind, hash)) = &change.consume_link
                && !links::consume(&tx, id, *kind, hash, at).await?
            {
                return Ok(Finish::Refused(UpdateOutcome::LinkGone));
            }
            match users::active(&tx, id).await? {
                None => return Ok(Finish::Refused(UpdateOutcome::NotFound)),
                Some(false) if change.require_active => {
                    return Ok(Finish::Refused(UpdateOutcome::Inactive));
                }
                Some(_) => {}
            }
            users::apply(&tx, id, at, change).await?;
            // Checked after the update, inside the transaction: of two admins demoting each
            // other at once, the second finds no other admin left.
            if change.keep_an_admin && users::count(&tx, users::ACTIVE_ADMINS).await? == 0 {
                return Ok(Finish::Refused(UpdateOutcome::LastAdmin));
            }
            let revoked_sessions = match change.revoke_sessions {
                Some(sweep) => sessions::sweep(&tx, id, sweep).await?,
                None => Vec::new(),
            };
            let user = users::by_id(&tx, id).await?.ok_or_else(|| gone("user"))?;
            Ok(Finish::Audited(UpdateOutcome::Written {
                user,
                revoked_sessions,
            }))
        })
    }

    async fn delete_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<DeleteOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            let revoked_sessions =
                sessions::sweep(&tx, id, SessionSweep { at, except: None }).await?;
            let revoked_tokens = tokens::revoke_all_of(&tx, id, at).await?;
            links::delete_all(&tx, id).await?;
            groups::delete_memberships_of(&tx, id).await?;
            if !users::delete(&tx, id).await? {
                return Ok(Finish::Refused(DeleteOutcome::NotFound));
            }
            if users::count(&tx, users::ACTIVE_ADMINS).await? == 0 {
                return Ok(Finish::Refused(DeleteOutcome::LastAdmin));
            }
            Ok(Finish::Audited(DeleteOutcome::Deleted {
                revoked_sessions,
                revoked_tokens,
            }))
        })
    }

    async fn put_link(
        &self,
        link: &OneTimeToken,
        unless_since: Option<DateTime<Utc>>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if let Some(since) = unless_since
                && links::made_since(&tx, link.user_id, link.kind, since).await?
            {
                return Ok(Finish::Refused(false));
            }
            links::replace(&tx, link).await?;
            Ok(Finish::Audited(true))
        })
    }

    async fn link(
        &self,
        user_id: Uuid,
        kind: LinkKind,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        read!(self, |db| links::get(db, user_id, kind))
    }

    async fn record_login(
        &self,
        session: &SessionRecord,
        refresh_hash: Option<&str>,
        check: &LoginCheck,
        audit: &AuditRecord,
    ) -> Result<LoginOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            match users::active(&tx, session.user_id).await? {
                None => return Ok(Finish::Refused(LoginOutcome::UserGone)),
                Some(false) => return Ok(Finish::Refused(LoginOutcome::Deactivated)),
                Some(true) => {}
            }
            if let Some(verified) = &check.password_hash {
                let current = users::password_hash(&tx, session.user_id).await?.flatten();
                if current.as_deref() != Some(verified.as_str()) {
                    return Ok(Finish::Refused(LoginOutcome::PasswordChanged));
                }
            }
            if let Some(identity) = &check.sso
                && let Some(linked) = users::sso_identity(&tx, session.user_id).await?
                && linked.issuer == identity.issuer
                && linked.subject != identity.subject
            {
                return Ok(Finish::Refused(LoginOutcome::OtherIdentity));
            }
            if let Some(approver) = check.approved_in {
                let live = sessions::by_id(&tx, approver)
                    .await?
                    .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > session.created_at);
                if !live {
                    return Ok(Finish::Refused(LoginOutcome::ApprovalGone));
                }
            }
            sessions::insert(&tx, session).await?;
            if let Some(hash) = refresh_hash {
                devices::insert_refresh(&tx, hash, session.id, session.created_at).await?;
            }
            users::stamp_login(&tx, session.user_id, session.created_at, check.sso.as_ref())
                .await?;
            Ok(Finish::Audited(LoginOutcome::Recorded))
        })
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        read!(self, |db| devices::refresh_by_hash(db, token_hash, false))
    }

    async fn rotate_refresh(
        &self,
        rotation: &RefreshRotation,
        rotated: &AuditRecord,
        reused: &AuditRecord,
    ) -> Result<RefreshOutcome, StoreError> {
        write!(self, Some(rotated), CHECKED, |tx| {
            let at = rotation.at;
            let Some(token) = devices::refresh_by_hash(&tx, &rotation.presented_hash, true).await?
            else {
                return Ok(Finish::Refused(RefreshOutcome::Invalid));
            };
            let session = match sessions::by_id(&tx, token.session_id).await? {
                Some(s) if s.revoked_at.is_none() && s.expires_at > at => s,
                _ => return Ok(Finish::Refused(RefreshOutcome::Invalid)),
            };
            if !devices::spend(&tx, &token.token_hash, at).await? {
                sessions::revoke_row(&tx, "sessions", session.id, at).await?;
                devices::spend_family(&tx, session.id, at).await?;
                audit::insert(&tx, reused).await?;
                return Ok(Finish::Quiet(RefreshOutcome::Reused(session.id)));
            }
            devices::insert_refresh(&tx, &rotation.next_hash, session.id, at).await?;
            devices::extend_session(&tx, session.id, at, rotation.expires_at).await?;
            let session = sessions::by_id(&tx, session.id).await?.unwrap_or(session);
            Ok(Finish::Audited(RefreshOutcome::Rotated(session)))
        })
    }

    async fn create_device_grant(
        &self,
        grant: &DeviceGrantRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        write!(self, Some(audit), UNCHECKED, |tx| {
            devices::insert_grant(&tx, grant).await?;
            Ok(Finish::Audited(()))
        })
    }

    async fn device_grant(
        &self,
        user_code_hash: &str,
    ) -> Result<Option<DeviceGrantRecord>, StoreError> {
        read!(self, |db| devices::grant_by_user_code(db, user_code_hash))
    }

    async fn decide_device_grant(
        &self,
        user_code_hash: &str,
        decision: DeviceDecision,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        write!(self, Some(audit), UNCHECKED, |tx| {
            Ok(
                match devices::decide(&tx, user_code_hash, decision, at).await? {
                    true => Finish::Audited(true),
                    false => Finish::Refused(false),
                },
            )
        })
    }

    async fn poll_device_grant(
        &self,
        device_hash: &str,
        at: DateTime<Utc>,
        grace_ms: i64,
    ) -> Result<DevicePoll, StoreError> {
        write!(self, None, UNCHECKED, |tx| {
            Ok(Finish::Quiet(
                devices::poll(&tx, device_hash, at, grace_ms).await?,
            ))
        })
    }

    async fn sso_identity_of(&self, user_id: Uuid) -> Result<Option<SsoIdentity>, StoreError> {
        read!(self, |db| users::sso_identity(db, user_id))
    }

    async fn session_by_id(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        read!(self, |db| sessions::by_id(db, id))
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(revoked(
                sessions::revoke_row(&tx, "sessions", id, at).await?,
            ))
        })
    }

    async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        read!(self, |db| sessions::live(db, user_id, now))
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        sweep: SessionSweep,
        audit: &AuditRecord,
    ) -> Result<Vec<Uuid>, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(Finish::Audited(sessions::sweep(&tx, user_id, sweep).await?))
        })
    }

    async fn touch_sessions(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError> {
        // Each stamp on its own (no transaction): holding a batch's row locks together could
        // deadlock with a sweep of the same user's sessions.
        read!(self, |db| sessions::touch(db, stamps))
    }

    async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            tokens::insert(&tx, token).await?;
            Ok(Finish::Audited(()))
        })
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        read!(self, |db| tokens::by_hash(db, token_hash))
    }

    async fn token_by_id(&self, id: Uuid) -> Result<Option<TokenRecord>, StoreError> {
        read!(self, |db| tokens::by_id(db, id))
    }

    async fn tokens_of_user(&self, user_id: Uuid) -> Result<Vec<TokenRecord>, StoreError> {
        read!(self, |db| tokens::of_user(db, user_id))
    }

    async fn list_tokens(&self, filter: &TokenFilter) -> Result<TokenPage, StoreError> {
        read!(self, |db| tokens::list(db, filter))
    }

    async fn revoke_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(revoked(sessions::revoke_row(&tx, "tokens", id, at).await?))
        })
    }

    async fn touch_tokens(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError> {
        // As for sessions: one autocommitted statement per stamp.
        read!(self, |db| tokens::touch(db, stamps))
    }

    async fn create_group(
        &self,
        group: &GroupRecord,
        audit: &AuditRecord,
    ) -> Result<GroupOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if groups::name_taken(&tx, &group.name, None).await? {
                return Ok(Finish::Refused(GroupOutcome::NameTaken));
            }
            groups::insert(&tx, group).await?;
            Ok(Finish::Audited(GroupOutcome::Written(group.clone())))
        })
    }

    async fn group_by_id(&self, id: Uuid) -> Result<Option<GroupRecord>, StoreError> {
        read!(self, |db| groups::by_id(db, id))
    }

    async fn group_by_name(&self, name: &str) -> Result<Option<GroupRecord>, StoreError> {
        read!(self, |db| groups::by_name(db, name))
    }

    async fn list_groups(
        &self,
        filter: &GroupFilter,
    ) -> Result<(Vec<(GroupRecord, u64)>, u64), StoreError> {
        read!(self, |db| groups::list(db, filter))
    }

    async fn groups_with_external_ids(
        &self,
        values: &[String],
    ) -> Result<Vec<GroupRecord>, StoreError> {
        read!(self, |db| groups::with_external_ids(db, values))
    }

    async fn update_group(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &GroupChange,
        audit: &AuditRecord,
    ) -> Result<GroupOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if let Some(name) = &change.name
                && groups::name_taken(&tx, name, Some(id)).await?
            {
                return Ok(Finish::Refused(GroupOutcome::NameTaken));
            }
            if !groups::apply(&tx, id, at, change).await? {
                return Ok(Finish::Refused(GroupOutcome::NotFound));
            }
            let group = groups::by_id(&tx, id).await?.ok_or_else(|| gone("group"))?;
            Ok(Finish::Audited(GroupOutcome::Written(group)))
        })
    }

    async fn delete_group(
        &self,
        id: Uuid,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<Uuid>>, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(match groups::delete(&tx, id).await? {
                Some(members) => Finish::Audited(Some(members)),
                None => Finish::Refused(None),
            })
        })
    }

    async fn group_members(&self, group_id: Uuid) -> Result<Vec<MemberRecord>, StoreError> {
        read!(self, |db| groups::members(db, group_id))
    }

    async fn add_member(
        &self,
        group_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<AddMemberOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if groups::by_id(&tx, group_id).await?.is_none() {
                return Ok(Finish::Refused(AddMemberOutcome::GroupNotFound));
            }
            if users::active(&tx, user_id).await?.is_none() {
                return Ok(Finish::Refused(AddMemberOutcome::UserNotFound));
            }
            Ok(match groups::membership(&tx, group_id, user_id).await? {
                None => {
                    groups::insert_member(&tx, group_id, user_id, MembershipSource::Admin, at)
                        .await?;
                    Finish::Audited(AddMemberOutcome::Added)
                }
                Some(MembershipSource::Sso) => {
                    groups::set_source(&tx, group_id, user_id, MembershipSource::Admin).await?;
                    Finish::Audited(AddMemberOutcome::MadeAdmin)
                }
                Some(MembershipSource::Admin) => Finish::Quiet(AddMemberOutcome::AlreadyMember),
            })
        })
    }

    async fn remove_member(
        &self,
        group_id: Uuid,
        user_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<RemoveMemberOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(match groups::membership(&tx, group_id, user_id).await? {
                None => Finish::Refused(RemoveMemberOutcome::NotMember),
                Some(MembershipSource::Sso) => Finish::Refused(RemoveMemberOutcome::BySso),
                Some(MembershipSource::Admin) => {
                    groups::delete_member(&tx, group_id, user_id).await?;
                    Finish::Audited(RemoveMemberOutcome::Removed)
                }
            })
        })
    }

    async fn groups_of_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(GroupRecord, MembershipSource)>, StoreError> {
        read!(self, |db| groups::of_user(db, user_id))
    }

    async fn group_roles_of_users(&self, users: &[Uuid]) -> Result<Vec<(Uuid, Role)>, StoreError> {
        read!(self, |db| groups::roles_of_users(db, users))
    }

    async fn sync_sso_memberships(
        &self,
        user_id: Uuid,
        add: &[Uuid],
        remove: &[Uuid],
        at: DateTime<Utc>,
        audit: SyncAudit,
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), StoreError> {
        // The row is made from what changed, so it is written here rather than by `finish`,
        // which takes it ready-made.
        write!(self, None, CHECKED, |tx| {
            let mut added = Vec::new();
            for &group_id in add {
                if groups::membership(&tx, group_id, user_id).await?.is_none()
                    && groups::by_id(&tx, group_id).await?.is_some()
                {
                    groups::insert_member(&tx, group_id, user_id, MembershipSource::Sso, at)
                        .await?;
                    added.push(group_id);
                }
            }
            let mut removed = Vec::new();
            for &group_id in remove {
                if groups::membership(&tx, group_id, user_id).await? == Some(MembershipSource::Sso)
                {
                    groups::delete_member(&tx, group_id, user_id).await?;
                    removed.push(group_id);
                }
            }
            if !added.is_empty() || !removed.is_empty() {
                audit::insert(&tx, &audit(&added, &removed)).await?;
            }
            Ok(Finish::Quiet((added, removed)))
        })
    }

    async fn datasets(&self) -> Result<Vec<DatasetRecord>, StoreError> {
        read!(self, |db| datasets::all(db))
    }

    async fn dataset(&self, name: &str) -> Result<Option<DatasetRecord>, StoreError> {
        read!(self, |db| datasets::by_name(db, name))
    }

    async fn put_dataset(
        &self,
        record: &DatasetRecord,
        description: Option<&str>,
        audit: &AuditRecord,
    ) -> Result<(DatasetRecord, bool), StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            let created = datasets::upsert(&tx, record, description).await?;
            let written = datasets::by_name(&tx, &record.name)
                .await?
                .ok_or_else(|| gone("dataset"))?;
            Ok(Finish::Audited((written, created)))
        })
    }

    async fn update_dataset(
        &self,
        name: &str,
        change: &DatasetChange,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<DatasetRecord>, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if !datasets::apply(&tx, name, change, at).await? {
                return Ok(Finish::Refused(None));
            }
            Ok(Finish::Audited(datasets::by_name(&tx, name).await?))
        })
    }

    async fn delete_dataset(&self, name: &str, audit: &AuditRecord) -> Result<bool, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(if datasets::delete(&tx, name).await? {
                Finish::Audited(true)
            } else {
                Finish::Refused(false)
            })
        })
    }

    async fn grant_dataset(
        &self,
        name: &str,
        group_id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<GrantOutcome, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            if datasets::by_name(&tx, name).await?.is_none() {
                return Ok(Finish::Refused(GrantOutcome::DatasetNotFound));
            }
            if groups::by_id(&tx, group_id).await?.is_none() {
                return Ok(Finish::Refused(GrantOutcome::GroupNotFound));
            }
            if datasets::granted(&tx, name, group_id).await? {
                return Ok(Finish::Quiet(GrantOutcome::AlreadyGranted));
            }
            datasets::grant(&tx, name, group_id, at).await?;
            Ok(Finish::Audited(GrantOutcome::Granted))
        })
    }

    async fn revoke_dataset(
        &self,
        name: &str,
        group_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        write!(self, Some(audit), CHECKED, |tx| {
            Ok(if datasets::revoke(&tx, name, group_id).await? {
                Finish::Audited(true)
            } else {
                Finish::Refused(false)
            })
        })
    }

    async fn claim_single_use(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        write!(self, None, UNCHECKED, |tx| {
            Ok(Finish::Quiet(
                links::claim_single_use(&tx, key, expires_at, now).await?,
            ))
        })
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        write!(self, None, UNCHECKED, |tx| {
            Ok(Finish::Quiet(
                links::shared_secret(&tx, name, candidate).await?,
            ))
        })
    }

    async fn broadcast(&self, items: &[Invalidation]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        self.notify(notify::payloads(self.origin(), items)).await
    }

    async fn announce_password(&self, news: &PasswordNews) -> Result<(), StoreError> {
        self.notify(vec![notify::password_payload(self.origin(), news)])
            .await
    }

    fn remote_changes(&self) -> Option<tokio::sync::broadcast::Receiver<RemoteChange>> {
        Some(self.subscribe())
    }

    async fn insert_audit(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        // One statement, no transaction to speak of: PostgreSQL takes concurrent inserts as
        // they come (the DuckDB store's group commit is for its single writer).
        read!(self, |db| audit::insert(db, audit))
    }

    async fn audit_chain_state(&self) -> Result<da_domain::store::AuditChainState, StoreError> {
        read!(self, |db| audit::chain_state(db))
    }

    async fn audit_chain(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<da_domain::audit_chain::ChainedAudit>, StoreError> {
        read!(self, |db| audit::chain(db, after_seq, limit))
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        read!(self, |db| audit::list(db, filter))
    }

    async fn count_audit(&self, filter: &AuditFilter) -> Result<u64, StoreError> {
        read!(self, |db| audit::count(db, filter))
    }
}

impl PgStore {
    /// Sends each payload on the replicas' channel.
    async fn notify(&self, payloads: Vec<String>) -> Result<(), StoreError> {
        let client = self.client().await?;
        let notify = client
            .prepare_cached("SELECT pg_notify($1, $2)")
            .await
            .map_err(crate::errors::store_error)?;
        for payload in payloads {
            client
                .execute(&notify, &[&notify::CHANNEL, &payload])
                .await
                .map_err(crate::errors::store_error)?;
        }
        Ok(())
    }
}

/// A revocation's answer: absent → `false` (nothing written); revoked now → audited; revoked
/// before → `true` without a second audit row.
fn revoked(found: Option<bool>) -> Finish<bool> {
    match found {
        None => Finish::Refused(false),
        Some(true) => Finish::Audited(true),
        Some(false) => Finish::Quiet(true),
    }
}
