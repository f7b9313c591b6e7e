//! [`Store`] for [`DuckDbStore`]: each method picks `read` or `write_audited` and calls the SQL
//! of its concern (`users`, `sessions`, `tokens`, `links`, `audit`). Guards that refuse a
//! change roll the whole transaction back.

use crate::pool::{DuckDbStore, Finish};
use crate::{audit, datasets, devices, groups, links, sessions, tokens, users};
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

#[async_trait]
impl Store for DuckDbStore {
    fn backend(&self) -> &'static str {
        "duckdb"
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(DuckDbStore::schema_version(self))
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        self.read(|conn| users::count(conn, "")).await
    }

    async fn count_admins(&self) -> Result<u64, StoreError> {
        self.read(|conn| users::count(conn, users::ADMINS)).await
    }

    async fn count_active_admins(&self) -> Result<u64, StoreError> {
        self.read(|conn| users::count(conn, users::ACTIVE_ADMINS))
            .await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        self.read(move |conn| users::by_id(conn, id)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let email = email.to_owned();
        self.read(move |conn| users::by_email(conn, &email)).await
    }

    async fn list_users(&self, filter: &UserFilter) -> Result<(Vec<UserRecord>, u64), StoreError> {
        let filter = filter.clone();
        self.read(move |conn| users::list(conn, &filter)).await
    }

    async fn create_user(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        invite: Option<&OneTimeToken>,
        audit: &AuditRecord,
    ) -> Result<CreateOutcome, StoreError> {
        let (user, invite) = (user.clone(), invite.cloned());
        self.write_audited(Some(audit), move |tx| {
            if guard == CreateGuard::NoAdmin && users::count(tx, users::ADMINS)? > 0 {
                return Ok(Finish::Refused(CreateOutcome::AdminExists));
            }
            if users::email_taken(tx, &user.email)? {
                return Ok(Finish::Refused(CreateOutcome::EmailTaken));
            }
            users::insert(tx, &user)?;
            if let Some(invite) = &invite {
                links::replace(tx, invite)?;
            }
            Ok(Finish::Audited(CreateOutcome::Created))
        })
        .await
    }

    async fn update_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &UserChange,
        audit: &AuditRecord,
    ) -> Result<UpdateOutcome, StoreError> {
        let change = change.clone();
        self.write_audited(Some(audit), move |tx| {
            if let Some((kind, hash)) = &change.consume_link
                && !links::consume(tx, id, *kind, hash, at)?
            {
                return Ok(Finish::Refused(UpdateOutcome::LinkGone));
            }
            match users::active(tx, id)? {
                None => return Ok(Finish::Refused(UpdateOutcome::NotFound)),
                Some(false) if change.require_active => {
                    return Ok(Finish::Refused(UpdateOutcome::Inactive));
                }
                Some(_) => {}
            }
            users::apply(tx, id, at, &change)?;
            // Checked after the update, inside the transaction: of two admins demoting each
            // other at once, the second finds no other admin left.
            if change.keep_an_admin && users::count(tx, users::ACTIVE_ADMINS)? == 0 {
                return Ok(Finish::Refused(UpdateOutcome::LastAdmin));
            }
            let revoked_sessions = match change.revoke_sessions {
                Some(sweep) => sessions::sweep(tx, id, sweep)?,
                None => Vec::new(),
            };
            let user = users::by_id(tx, id)?.ok_or(duckdb::Error::QueryReturnedNoRows)?;
            Ok(Finish::Audited(UpdateOutcome::Written {
                user,
                revoked_sessions,
            }))
        })
        .await
    }

    async fn delete_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<DeleteOutcome, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            let revoked_sessions = sessions::sweep(tx, id, SessionSweep { at, except: None })?;
            let revoked_tokens = tokens::revoke_all_of(tx, id, at)?;
            links::delete_all(tx, id)?;
            groups::delete_memberships_of(tx, id)?;
            if !users::delete(tx, id)? {
                return Ok(Finish::Refused(DeleteOutcome::NotFound));
            }
            if users::count(tx, users::ACTIVE_ADMINS)? == 0 {
                return Ok(Finish::Refused(DeleteOutcome::LastAdmin));
            }
            Ok(Finish::Audited(DeleteOutcome::Deleted {
                revoked_sessions,
                revoked_tokens,
            }))
        })
        .await
    }

    async fn put_link(
        &self,
        link: &OneTimeToken,
        unless_since: Option<DateTime<Utc>>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let link = link.clone();
        self.write_audited(Some(audit), move |tx| {
            if let Some(since) = unless_since
                && links::made_since(tx, link.user_id, link.kind, since)?
            {
                return Ok(Finish::Refused(false));
            }
            links::replace(tx, &link)?;
            Ok(Finish::Audited(true))
        })
        .await
    }

    async fn link(
        &self,
        user_id: Uuid,
        kind: LinkKind,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        self.read(move |conn| links::get(conn, user_id, kind)).await
    }

    async fn record_login(
        &self,
        session: &SessionRecord,
        refresh_hash: Option<&str>,
        check: &LoginCheck,
        audit: &AuditRecord,
    ) -> Result<LoginOutcome, StoreError> {
        let (session, check) = (session.clone(), check.clone());
        let refresh_hash = refresh_hash.map(str::to_owned);
        self.write_audited(Some(audit), move |tx| {
            match users::active(tx, session.user_id)? {
                None => return Ok(Finish::Refused(LoginOutcome::UserGone)),
                Some(false) => return Ok(Finish::Refused(LoginOutcome::Deactivated)),
                Some(true) => {}
            }
            if let Some(verified) = &check.password_hash {
                let current = users::password_hash(tx, session.user_id)?.flatten();
                if current.as_deref() != Some(verified.as_str()) {
                    return Ok(Finish::Refused(LoginOutcome::PasswordChanged));
                }
            }
            if let Some(identity) = &check.sso
                && let Some(linked) = users::sso_identity(tx, session.user_id)?
                && linked.issuer == identity.issuer
                && linked.subject != identity.subject
            {
                return Ok(Finish::Refused(LoginOutcome::OtherIdentity));
            }
            if let Some(approver) = check.approved_in {
                let live = sessions::by_id(tx, approver)?
                    .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > session.created_at);
                if !live {
                    return Ok(Finish::Refused(LoginOutcome::ApprovalGone));
                }
            }
            sessions::insert(tx, &session)?;
            if let Some(hash) = &refresh_hash {
                devices::insert_refresh(tx, hash, session.id, session.created_at)?;
            }
            users::stamp_login(tx, session.user_id, session.created_at, check.sso.as_ref())?;
            Ok(Finish::Audited(LoginOutcome::Recorded))
        })
        .await
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| devices::refresh_by_hash(conn, &token_hash))
            .await
    }

    async fn rotate_refresh(
        &self,
        rotation: &RefreshRotation,
        rotated: &AuditRecord,
        reused: &AuditRecord,
    ) -> Result<RefreshOutcome, StoreError> {
        let (rotation, reused) = (rotation.clone(), reused.clone());
        self.write_audited(Some(rotated), move |tx| {
            let at = rotation.at;
            let Some(token) = devices::refresh_by_hash(tx, &rotation.presented_hash)? else {
                return Ok(Finish::Refused(RefreshOutcome::Invalid));
            };
            let session = match sessions::by_id(tx, token.session_id)? {
                Some(s) if s.revoked_at.is_none() && s.expires_at > at => s,
                _ => return Ok(Finish::Refused(RefreshOutcome::Invalid)),
            };
            if !devices::spend(tx, &token.token_hash, at)? {
                sessions::revoke_row(tx, "sessions", session.id, at)?;
                devices::spend_family(tx, session.id, at)?;
                audit::insert(tx, &reused)?;
                return Ok(Finish::Quiet(RefreshOutcome::Reused(session.id)));
            }
            devices::insert_refresh(tx, &rotation.next_hash, session.id, at)?;
            devices::extend_session(tx, session.id, at, rotation.expires_at)?;
            let session = sessions::by_id(tx, session.id)?.unwrap_or(session);
            Ok(Finish::Audited(RefreshOutcome::Rotated(session)))
        })
        .await
    }

    async fn create_device_grant(
        &self,
        grant: &DeviceGrantRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let grant = grant.clone();
        self.write_audited(Some(audit), move |tx| {
            devices::insert_grant(tx, &grant)?;
            Ok(Finish::Audited(()))
        })
        .await
    }

    async fn device_grant(
        &self,
        user_code_hash: &str,
    ) -> Result<Option<DeviceGrantRecord>, StoreError> {
        let hash = user_code_hash.to_owned();
        self.read(move |conn| devices::grant_by_user_code(conn, &hash))
            .await
    }

    async fn decide_device_grant(
        &self,
        user_code_hash: &str,
        decision: DeviceDecision,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let hash = user_code_hash.to_owned();
        self.write_audited(Some(audit), move |tx| {
            Ok(match devices::decide(tx, &hash, decision, at)? {
                true => Finish::Audited(true),
                false => Finish::Refused(false),
            })
        })
        .await
    }

    async fn poll_device_grant(
        &self,
        device_hash: &str,
        at: DateTime<Utc>,
        grace_ms: i64,
    ) -> Result<DevicePoll, StoreError> {
        let hash = device_hash.to_owned();
        self.write_audited(None, move |tx| {
            Ok(Finish::Quiet(devices::poll(tx, &hash, at, grace_ms)?))
        })
        .await
    }

    async fn sso_identity_of(&self, user_id: Uuid) -> Result<Option<SsoIdentity>, StoreError> {
        self.read(move |conn| users::sso_identity(conn, user_id))
            .await
    }

    async fn session_by_id(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        self.read(move |conn| sessions::by_id(conn, id)).await
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            Ok(revoked(sessions::revoke_row(tx, "sessions", id, at)?))
        })
        .await
    }

    async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.read(move |conn| sessions::live(conn, user_id, now))
            .await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        sweep: SessionSweep,
        audit: &AuditRecord,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            Ok(Finish::Audited(sessions::sweep(tx, user_id, sweep)?))
        })
        .await
    }

    async fn touch_sessions(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError> {
        let stamps = stamps.to_vec();
        self.write_audited(None, move |tx| {
            sessions::touch(tx, &stamps)?;
            Ok(Finish::Quiet(()))
        })
        .await
    }

    async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let token = token.clone();
        self.write_audited(Some(audit), move |tx| {
            tokens::insert(tx, &token)?;
            Ok(Finish::Audited(()))
        })
        .await
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| tokens::by_hash(conn, &token_hash))
            .await
    }

    async fn token_by_id(&self, id: Uuid) -> Result<Option<TokenRecord>, StoreError> {
        self.read(move |conn| tokens::by_id(conn, id)).await
    }

    async fn tokens_of_user(&self, user_id: Uuid) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(move |conn| tokens::of_user(conn, user_id)).await
    }

    async fn list_tokens(&self, filter: &TokenFilter) -> Result<TokenPage, StoreError> {
        let filter = filter.clone();
        self.read(move |conn| tokens::list(conn, &filter)).await
    }

    async fn revoke_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            Ok(revoked(sessions::revoke_row(tx, "tokens", id, at)?))
        })
        .await
    }

    async fn touch_tokens(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError> {
        let stamps = stamps.to_vec();
        self.write_audited(None, move |tx| {
            tokens::touch(tx, &stamps)?;
            Ok(Finish::Quiet(()))
        })
        .await
    }

    async fn create_group(
        &self,
        group: &GroupRecord,
        audit: &AuditRecord,
    ) -> Result<GroupOutcome, StoreError> {
        let group = group.clone();
        self.write_audited(Some(audit), move |tx| {
            if groups::name_taken(tx, &group.name, None)? {
                return Ok(Finish::Refused(GroupOutcome::NameTaken));
            }
            groups::insert(tx, &group)?;
            Ok(Finish::Audited(GroupOutcome::Written(group)))
        })
        .await
    }

    async fn group_by_id(&self, id: Uuid) -> Result<Option<GroupRecord>, StoreError> {
        self.read(move |conn| groups::by_id(conn, id)).await
    }

    async fn group_by_name(&self, name: &str) -> Result<Option<GroupRecord>, StoreError> {
        let name = name.to_owned();
        self.read(move |conn| groups::by_name(conn, &name)).await
    }

    async fn list_groups(
        &self,
        filter: &GroupFilter,
    ) -> Result<(Vec<(GroupRecord, u64)>, u64), StoreError> {
        let filter = filter.clone();
        self.read(move |conn| groups::list(conn, &filter)).await
    }

    async fn groups_with_external_ids(
        &self,
        values: &[String],
    ) -> Result<Vec<GroupRecord>, StoreError> {
        let values = values.to_vec();
        // Groups are few: reading them all beats a JSON query per value.
        let all = self.read(groups::all).await?;
        Ok(all
            .into_iter()
            .filter(|g| g.external_ids.iter().any(|id| values.contains(id)))
            .collect())
    }

    async fn update_group(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &GroupChange,
        audit: &AuditRecord,
    ) -> Result<GroupOutcome, StoreError> {
        let change = change.clone();
        self.write_audited(Some(audit), move |tx| {
            if let Some(name) = &change.name
                && groups::name_taken(tx, name, Some(id))?
            {
                return Ok(Finish::Refused(GroupOutcome::NameTaken));
            }
            if !groups::apply(tx, id, at, &change)? {
                return Ok(Finish::Refused(GroupOutcome::NotFound));
            }
            let group = groups::by_id(tx, id)?.ok_or(duckdb::Error::QueryReturnedNoRows)?;
            Ok(Finish::Audited(GroupOutcome::Written(group)))
        })
        .await
    }

    async fn delete_group(
        &self,
        id: Uuid,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<Uuid>>, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            Ok(match groups::delete(tx, id)? {
                Some(members) => Finish::Audited(Some(members)),
                None => Finish::Refused(None),
            })
        })
        .await
    }

    async fn group_members(&self, group_id: Uuid) -> Result<Vec<MemberRecord>, StoreError> {
        self.read(move |conn| groups::members(conn, group_id)).await
    }

    async fn add_member(
        &self,
        group_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<AddMemberOutcome, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            if groups::by_id(tx, group_id)?.is_none() {
                return Ok(Finish::Refused(AddMemberOutcome::GroupNotFound));
            }
            if users::active(tx, user_id)?.is_none() {
                return Ok(Finish::Refused(AddMemberOutcome::UserNotFound));
            }
            Ok(match groups::membership(tx, group_id, user_id)? {
                None => {
                    groups::insert_member(tx, group_id, user_id, MembershipSource::Admin, at)?;
                    Finish::Audited(AddMemberOutcome::Added)
                }
                Some(MembershipSource::Sso) => {
                    groups::set_source(tx, group_id, user_id, MembershipSource::Admin)?;
                    Finish::Audited(AddMemberOutcome::MadeAdmin)
                }
                Some(MembershipSource::Admin) => Finish::Quiet(AddMemberOutcome::AlreadyMember),
            })
        })
        .await
    }

    async fn remove_member(
        &self,
        group_id: Uuid,
        user_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<RemoveMemberOutcome, StoreError> {
        self.write_audited(Some(audit), move |tx| {
            Ok(match groups::membership(tx, group_id, user_id)? {
                None => Finish::Refused(RemoveMemberOutcome::NotMember),
                Some(MembershipSource::Sso) => Finish::Refused(RemoveMemberOutcome::BySso),
                Some(MembershipSource::Admin) => {
                    groups::delete_member(tx, group_id, user_id)?;
                    Finish::Audited(RemoveMemberOutcome::Removed)
                }
            })
        })
        .await
    }

    async fn groups_of_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(GroupRecord, MembershipSource)>, StoreError> {
        self.read(move |conn| groups::of_user(conn, user_id)).await
    }

    async fn group_roles_of_users(&self, users: &[Uuid]) -> Result<Vec<(Uuid, Role)>, StoreError> {
        let users = users.to_vec();
        self.read(move |conn| groups::roles_of_users(conn, &users))
            .await
    }

    async fn sync_sso_memberships(
        &self,
        user_id: Uuid,
        add: &[Uuid],
        remove: &[Uuid],
        at: DateTime<Utc>,
        audit: SyncAudit,
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), StoreError> {
        let (add, remove) = (add.to_vec(), remove.to_vec());
        // The row is made from what changed, so it is written here rather than by
        // `write_audited`, which takes it ready-made.
        self.write_audited(None, move |tx| {
            let mut added = Vec::new();
            for group_id in add {
                if groups::membership(tx, group_id, user_id)?.is_none()
                    && groups::by_id(tx, group_id)?.is_some()
                {
                    groups::insert_member(tx, group_id, user_id, MembershipSource::Sso, at)?;
                    added.push(group_id);
                }
            }
            let mut removed = Vec::new();
            for group_id in remove {
                if groups::membership(tx, group_id, user_id)? == Some(MembershipSource::Sso) {
                    groups::delete_member(tx, group_id, user_id)?;
                    removed.push(group_id);
                }
            }
            if !added.is_empty() || !removed.is_empty() {
                crate::audit::insert(tx, &audit(&added, &removed))?;
            }
            Ok(Finish::Quiet((added, removed)))
        })
        .await
    }

    async fn datasets(&self) -> Result<Vec<DatasetRecord>, StoreError> {
        self.read(datasets::all).await
    }

    async fn dataset(&self, name: &str) -> Result<Option<DatasetRecord>, StoreError> {
        let name = name.to_owned();
        self.read(move |conn| datasets::by_name(conn, &name)).await
    }

    async fn put_dataset(
        &self,
        record: &DatasetRecord,
        description: Option<&str>,
        audit: &AuditRecord,
    ) -> Result<(DatasetRecord, bool), StoreError> {
        let (record, description) = (record.clone(), description.map(str::to_owned));
        self.write_audited(Some(audit), move |tx| {
            let created = datasets::upsert(tx, &record, description.as_deref())?;
            let written =
                datasets::by_name(tx, &record.name)?.ok_or(duckdb::Error::QueryReturnedNoRows)?;
            Ok(Finish::Audited((written, created)))
        })
        .await
    }

    async fn update_dataset(
        &self,
        name: &str,
        change: &DatasetChange,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<DatasetRecord>, StoreError> {
        let (name, change) = (name.to_owned(), change.clone());
        self.write_audited(Some(audit), move |tx| {
            if !datasets::apply(tx, &name, &change, at)? {
                return Ok(Finish::Refused(None));
            }
            Ok(Finish::Audited(datasets::by_name(tx, &name)?))
        })
        .await
    }

    async fn delete_dataset(&self, name: &str, audit: &AuditRecord) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.write_audited(Some(audit), move |tx| {
            Ok(if datasets::delete(tx, &name)? {
                Finish::Audited(true)
            } else {
                Finish::Refused(false)
            })
        })
        .await
    }

    async fn grant_dataset(
        &self,
        name: &str,
        group_id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<GrantOutcome, StoreError> {
        let name = name.to_owned();
        self.write_audited(Some(audit), move |tx| {
            if datasets::by_name(tx, &name)?.is_none() {
                return Ok(Finish::Refused(GrantOutcome::DatasetNotFound));
            }
            if groups::by_id(tx, group_id)?.is_none() {
                return Ok(Finish::Refused(GrantOutcome::GroupNotFound));
            }
            if datasets::granted(tx, &name, group_id)? {
                return Ok(Finish::Quiet(GrantOutcome::AlreadyGranted));
            }
            datasets::grant(tx, &name, group_id, at)?;
            Ok(Finish::Audited(GrantOutcome::Granted))
        })
        .await
    }

    async fn revoke_dataset(
        &self,
        name: &str,
        group_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.write_audited(Some(audit), move |tx| {
            Ok(if datasets::revoke(tx, &name, group_id)? {
                Finish::Audited(true)
            } else {
                Finish::Refused(false)
            })
        })
        .await
    }

    async fn claim_single_use(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.write_audited(None, move |tx| {
            Ok(Finish::Quiet(links::claim_single_use(
                tx, &key, expires_at, now,
            )?))
        })
        .await
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        let (name, candidate) = (name.to_owned(), candidate.to_vec());
        self.write_audited(None, move |tx| {
            Ok(Finish::Quiet(links::shared_secret(tx, &name, &candidate)?))
        })
        .await
    }

    async fn broadcast(&self, _items: &[Invalidation]) -> Result<(), StoreError> {
        // One process per file: no other replica to tell.
        Ok(())
    }

    async fn announce_password(&self, _news: &PasswordNews) -> Result<(), StoreError> {
        Ok(())
    }

    fn remote_changes(&self) -> Option<tokio::sync::broadcast::Receiver<RemoteChange>> {
        None
    }

    async fn insert_audit(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        self.insert_audit_batched(audit).await
    }

    async fn audit_chain_state(&self) -> Result<da_domain::store::AuditChainState, StoreError> {
        self.read(audit::chain_state).await
    }

    async fn audit_chain(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<da_domain::audit_chain::ChainedAudit>, StoreError> {
        self.read(move |conn| audit::chain(conn, after_seq, limit))
            .await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let filter = filter.clone();
        self.read(move |conn| audit::list(conn, &filter)).await
    }

    async fn count_audit(&self, filter: &AuditFilter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.read(move |conn| audit::count(conn, &filter)).await
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
