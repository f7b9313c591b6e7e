//! The storage boundary: records in domain terms and the [`Store`] trait backends implement.
//!
//! Backends map their driver errors into [`StoreError`] and never leak SQL upwards. Every
//! mutating method takes the audit row to write in the same transaction as the change.
//!
//! # Isolation
//! Each method's documentation says what it needs. "Atomic" means: the checks and writes it
//! lists happen as one transaction that no concurrent call can interleave with, whatever the
//! backend's default isolation (DuckDB: one serialised writer; PostgreSQL at READ COMMITTED:
//! row locks or conditional updates, or SERIALIZABLE with a retry). Plain reads need no more
//! than read-committed: a reader may see a state a concurrent write is about to replace, and
//! callers are built for that (the auth cache's generations, the re-checks inside writes).
//! Writes touch only the columns they change: no method writes back a whole row read earlier.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use da_types::Role;
use uuid::Uuid;

/// What a backend reports. The `String`s are causes for the log; they never reach a client
/// (the domain's error conversion replaces them with a fixed sentence).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A write lost to a concurrent one (serialisation failure, write-write conflict, a unique
    /// key taken in between); retrying the request may succeed.
    #[error("write conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is shutting down.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Other(String),
}

#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Uuid,
    /// Normalised (trimmed, lower-case).
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// Argon2id PHC string; `None` for an invited user who has not set a password yet.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub deactivated_by: Option<Uuid>,
    /// Created by, or last signed in through, single sign-on.
    pub sso: bool,
}

impl UserRecord {
    /// Invited and not signed up yet: active, without a password. (The dashboard counts the
    /// same with `UserFilter { has_password: Some(false), active: Some(true) }`.)
    pub fn is_invited(&self) -> bool {
        self.active && self.password_hash.is_none()
    }
}

// Hand-written so a password hash never lands in a log line.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("active", &self.active)
            .field("has_password", &self.password_hash.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub device_label: String,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token of a CLI session, as stored: only the SHA-256 (hex) of the secret. Every
/// token of one session is one family: spending a token issues the next; presenting a spent
/// one again revokes the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token_hash: String,
    pub session_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub spent_at: Option<DateTime<Utc>>,
}

/// A refresh: spend `presented`, issue `next`, and keep the session alive until `expires_at`.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRotation {
    pub presented_hash: String,
    pub next_hash: String,
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for RefreshRotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRotation")
            .field("at", &self.at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The presented token is spent and the next one issued: the session as it is now.
    Rotated(SessionRecord),
    /// No such token, or its session is revoked or expired; nothing written.
    Invalid,
    /// The token was spent already: the session is revoked now (every token of the family
    /// with it) and the reuse audited.
    Reused(Uuid),
}

/// What became of a device code (RFC 8628).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDecision {
    Pending,
    /// By this user, signed in with this session.
    Approved {
        user_id: Uuid,
        session_id: Uuid,
    },
    Denied,
}

/// A device authorization request, as stored: the device code and the user code only as
/// SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGrantRecord {
    pub device_hash: String,
    pub user_code_hash: String,
    pub client_name: String,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The least seconds between two polls; `slow_down` raises it.
    pub interval_seconds: u32,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub decision: DeviceDecision,
}

/// What a poll of a device code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll {
    /// No such code (never issued, expired and swept, or already used).
    Unknown,
    Expired,
    /// Polled sooner than its interval after the previous poll; the interval grew by `slow_down`.
    SlowDown,
    Pending,
    /// Denied: the code is gone now.
    Denied,
    /// Approved by this user in this session: the code is spent now, by this poll alone.
    Approved {
        user_id: Uuid,
        session_id: Uuid,
        client_name: String,
    },
}

/// What a poll at `at` finds of `grant`: the rule every store applies inside its transaction.
/// `grace` is how much sooner than the interval a poll may come (timers are not exact).
pub fn poll_outcome(
    grant: &DeviceGrantRecord,
    at: DateTime<Utc>,
    grace: chrono::Duration,
) -> DevicePoll {
    if grant.expires_at <= at {
        return DevicePoll::Expired;
    }
    match grant.decision {
        DeviceDecision::Approved {
            user_id,
            session_id,
        } => DevicePoll::Approved {
            user_id,
            session_id,
            client_name: grant.client_name.clone(),
        },
        DeviceDecision::Denied => DevicePoll::Denied,
        DeviceDecision::Pending => match grant.last_poll_at {
            Some(last)
                if at - last + grace
                    < chrono::Duration::seconds(i64::from(grant.interval_seconds)) =>
            {
                DevicePoll::SlowDown
            }
            _ => DevicePoll::Pending,
        },
    }
}

/// Which credential performed an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialRef {
    pub kind: da_types::CredentialKind,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    /// The session or token the actor used; `None` for anonymous actions and start-up.
    pub credential: Option<CredentialRef>,
    pub action: String,
    pub resource: Option<String>,
    pub params: serde_json::Value,
    pub ip: Option<String>,
}

/// A stored audit row with its place in the hash chain (`audit_chain`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedAudit {
    pub seq: u64,
    pub hash: String,
    pub record: AuditRecord,
}

/// The chain's head as the database records it, and the rows it should account for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChainState {
    /// The last appended row's `seq` (0 for an empty log) and `hash`.
    pub head_seq: u64,
    pub head_hash: String,
    /// Rows with `seq <= head_seq` or no `seq` at all: `head_seq` when nothing was tampered with.
    pub rows: u64,
}

/// A personal access token as stored: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub role: Option<Role>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One page of the admin token inventory: each token with its owner's email (if the owner still
/// exists), and the number of all matches.
pub type TokenPage = (Vec<(TokenRecord, Option<String>)>, u64);

/// Which tokens the admin inventory returns; values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    pub user_id: Option<Uuid>,
    /// Lower-case substring of the owner's email.
    pub owner_contains: Option<String>,
    pub status: Option<da_types::TokenStatus>,
    /// "Now", for telling active from expired.
    pub now: DateTime<Utc>,
    pub limit: u32,
    /// At most [`da_types::paging::OFFSET_MAX`].
    pub offset: u64,
}

/// A batched "last seen" update: flushed in the background, never one write per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityStamp {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
}

/// When a user may be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateGuard {
    /// Any time the email is free.
    EmailFree,
    /// Only while no admin exists at all (bootstrap), checked atomically with the insert.
    NoAdmin,
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// "Forgot password" and admin-issued reset links (24 h).
    Reset,
    /// Invite links for new users (7 days).
    Setup,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Reset => "reset",
            LinkKind::Setup => "setup",
        }
    }
}

/// A pending one-time link. Only the SHA-256 (hex) of its secret is stored; at most one per
/// user and kind (a new one replaces the old).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    pub user_id: Uuid,
    pub kind: LinkKind,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Which users `list_users` returns; values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Case-insensitive substring of email or name.
    pub search: Option<String>,
    /// Exact, normalised email.
    pub email: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// `false`: invited users who have not chosen a password yet.
    pub has_password: Option<bool>,
    pub limit: u32,
    /// At most [`da_types::paging::OFFSET_MAX`].
    pub offset: u64,
}

/// Sessions to revoke together with a user write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSweep {
    pub at: DateTime<Utc>,
    /// Keep this one (the caller's own, when they change their own password).
    pub except: Option<Uuid>,
}

/// A change of a user's active flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveChange {
    /// Sets `active = false`, `deactivated_at` and `deactivated_by`.
    Deactivate { by: Uuid },
    /// Sets `active = true` and clears the deactivation fields.
    Activate,
}

/// A change to some columns of one user, applied atomically with its checks and audit row.
/// Columns left `None` are not written, so concurrent changes of other columns survive.
#[derive(Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<ActiveChange>,
    /// A new Argon2id PHC string.
    pub password_hash: Option<String>,
    pub sso: Option<bool>,
    /// Refuse (`LastAdmin`) if afterwards no active user with the role `admin` would remain.
    pub keep_an_admin: bool,
    /// Refuse (`Inactive`) unless the user is active when the change applies.
    pub require_active: bool,
    /// Refuse (`LinkGone`) unless this one-time link is still pending, unexpired at `at` and
    /// has this hash; it is consumed by the same transaction, so of two racing redemptions
    /// exactly one succeeds.
    pub consume_link: Option<(LinkKind, String)>,
    pub revoke_sessions: Option<SessionSweep>,
}

// A password hash is no secret in itself, but it has no business in a log line either.
impl std::fmt::Debug for UserChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserChange")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("active", &self.active)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("sso", &self.sso)
            .field("keep_an_admin", &self.keep_an_admin)
            .field("require_active", &self.require_active)
            .field(
                "consume_link",
                &self.consume_link.as_ref().map(|(kind, _)| kind),
            )
            .field("revoke_sessions", &self.revoke_sessions)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Done: the user as written, and the sessions the change revoked.
    Written {
        user: UserRecord,
        revoked_sessions: Vec<Uuid>,
    },
    NotFound,
    LastAdmin,
    LinkGone,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Done: the sessions and tokens that died with the user.
    Deleted {
        revoked_sessions: Vec<Uuid>,
        revoked_tokens: Vec<Uuid>,
    },
    NotFound,
    LastAdmin,
}

/// What a login must still find true when its session is recorded: the password it checked
/// may have changed, or the account been deactivated, while Argon2 ran.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LoginCheck {
    /// The PHC string the password was verified against; `None` when the login did not use a
    /// password (a redeemed link already wrote one; single sign-on uses none).
    pub password_hash: Option<String>,
    /// The login came through single sign-on as this identity: mark the user `sso` and link
    /// them to it, unless they are linked to another subject at the same provider.
    pub sso: Option<SsoIdentity>,
    /// A device grant: the session that approved it must still be live (not revoked, not
    /// expired at the new session's `created_at`), else `ApprovalGone`.
    pub approved_in: Option<Uuid>,
}

/// Who the identity provider says signed in: its issuer and the subject (`sub`) it vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
}

impl std::fmt::Debug for LoginCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCheck")
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("sso", &self.sso)
            .field("approved_in", &self.approved_in)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Recorded,
    UserGone,
    Deactivated,
    /// The password changed since it was verified.
    PasswordChanged,
    /// Single sign-on: the account is linked to another subject at this provider.
    OtherIdentity,
    /// The session that approved a device grant has ended since.
    ApprovalGone,
}

/// A dataset as stored: its file's facts, who may read it, and the groups it is granted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRecord {
    pub name: String,
    pub description: String,
    pub format: da_types::DatasetFormat,
    pub size_bytes: u64,
    pub rows: u64,
    pub columns: Vec<da_types::Column>,
    pub sha256: String,
    /// Users whose effective role is at least this may read it.
    pub min_role: Option<Role>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The groups it is granted to, in the order granted.
    pub groups: Vec<Uuid>,
}

/// What `PATCH /api/datasets/{name}` changes; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetChange {
    pub description: Option<String>,
    /// `Some(None)` clears the minimum role.
    pub min_role: Option<Option<Role>>,
}

/// How granting a dataset to a group went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantOutcome {
    Granted,
    AlreadyGranted,
    DatasetNotFound,
    GroupNotFound,
}

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub role: Option<Role>,
    pub external_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which groups `list_groups` returns; values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// Case-insensitive substring of the name or description.
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u64,
}

/// A change to some columns of one group; `None` is not written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChange {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` clears the role.
    pub role: Option<Option<Role>>,
    pub external_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupOutcome {
    Written(GroupRecord),
    NotFound,
    /// Another group has this name (case-insensitively).
    NameTaken,
}

/// A member of a group, with what a listing shows of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub source: da_types::MembershipSource,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddMemberOutcome {
    Added,
    /// Was a member through single sign-on; an admin's membership now (sync leaves it).
    MadeAdmin,
    AlreadyMember,
    GroupNotFound,
    UserNotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveMemberOutcome {
    Removed,
    NotMember,
    /// Single sign-on manages it; only the identity provider can take it away.
    BySso,
}

/// Makes the audit row of a group sync from what it added and removed.
pub type SyncAudit = Box<dyn FnOnce(&[Uuid], &[Uuid]) -> AuditRecord + Send>;

/// Audit rows matching a query, newest first; values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action_prefix: Option<String>,
    pub actor_id: Option<Uuid>,
    /// Lower-case substring of the actor's email.
    pub actor_contains: Option<String>,
    pub resource: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Rows strictly older than this `(at, id)` position (the cursor).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

/// One key whose cached state (see `cache`) may be stale: what replicas tell each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// The user's own row or memberships changed.
    User(Uuid),
    Session(Uuid),
    Token(Uuid),
    /// The group's role or name changed, or it is gone.
    Group(Uuid),
    /// A dataset, its minimum role or its grants changed (the catalog, not this cache).
    Datasets,
}

/// How a password check for an account from a client ended, as replicas tell each other so
/// the per-account back-off holds across them (`brakes`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordNews {
    /// The normalised email, known or not.
    pub account: String,
    /// The client as the brakes key it (`brakes::client_key`).
    pub client: String,
    pub outcome: PasswordOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordOutcome {
    Wrong,
    Right,
    /// The account was proved without a password (a redeemed link).
    Proved,
}

/// What a backend hears of the other replicas that share its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteChange {
    /// Another replica changed these keys (after its write committed).
    Stale(Vec<Invalidation>),
    /// A password check's outcome on another replica, for this one's brakes.
    Password(PasswordNews),
    /// The channel to the other replicas is down: what they change now goes unheard, so
    /// nothing cached may be trusted until [`RemoteChange::Resync`].
    Lost,
    /// The channel is back (or was never up before): forget everything cached, then trust
    /// the cache again.
    Resync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    EmailTaken,
    AdminExists,
}

/// Storage of users, sessions, tokens, one-time links and the audit log.
///
/// Every audit row is appended to the hash chain (see the `audit_chain` module) by the statement
/// that inserts it, in the transaction of the change it records; concurrent writers never give
/// two rows one `seq`.
///
/// One contract test suite (`da-store-contract`) runs against every implementation; a backend
/// is correct when it passes it, concurrency cases included.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"duckdb"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// The highest applied migration.
    async fn schema_version(&self) -> Result<i64, StoreError>;

    async fn count_users(&self) -> Result<u64, StoreError>;
    /// Users whose own role is `admin`, active or not (bootstrap's question).
    async fn count_admins(&self) -> Result<u64, StoreError>;
    /// Active users whose own role is `admin` (the safeguards' question, asked again inside
    /// every write that could remove one).
    async fn count_active_admins(&self) -> Result<u64, StoreError>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError>;
    /// `email` is already normalised.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;
    /// One page of users ordered by email, and the number of all matches.
    async fn list_users(&self, filter: &UserFilter) -> Result<(Vec<UserRecord>, u64), StoreError>;
    /// Inserts a user (and their invite link, if any) with the audit row.
    ///
    /// Atomic: the guard (email free; with `NoAdmin`, no admin at all) and the insert. Of two
    /// concurrent bootstraps exactly one is `Created`.
    async fn create_user(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        invite: Option<&OneTimeToken>,
        audit: &AuditRecord,
    ) -> Result<CreateOutcome, StoreError>;
    /// Applies `change` to the user `id` at time `at` (`updated_at`) and writes the audit row.
    ///
    /// Atomic: the guards of `change` (link consumption, `require_active`, `keep_an_admin`
    /// evaluated on the state after the change), the column writes, the session sweep and the
    /// audit row. Of two admins deactivating each other at once, one gets `LastAdmin`. Returns
    /// the user as written, read inside the same transaction.
    async fn update_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &UserChange,
        audit: &AuditRecord,
    ) -> Result<UpdateOutcome, StoreError>;
    /// Deletes the user, their pending links, revokes their sessions and tokens; their audit
    /// rows stay.
    ///
    /// Atomic, with the check that an active admin remains afterwards.
    async fn delete_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<DeleteOutcome, StoreError>;

    /// Stores a link, replacing a pending one of the same user and kind, with its audit row.
    /// With `unless_since`, nothing is written (and `false` returned) when a pending link of
    /// that kind was created at or after that time: a per-account cooldown.
    ///
    /// Atomic: the cooldown check, the replacement and the audit row.
    async fn put_link(
        &self,
        link: &OneTimeToken,
        unless_since: Option<DateTime<Utc>>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    async fn link(&self, user_id: Uuid, kind: LinkKind)
    -> Result<Option<OneTimeToken>, StoreError>;

    /// Records a successful login: the new session, the user's `last_login_at`, the audit row.
    ///
    /// Atomic with `check`: nothing is written unless the user still exists, is active and (when
    /// given) still has the password hash that was verified, so a login that raced a password
    /// change or a deactivation cannot leave a session behind the sweep.
    ///
    /// A CLI session comes with the hash of its first refresh token, stored with it.
    async fn record_login(
        &self,
        session: &SessionRecord,
        refresh_hash: Option<&str>,
        check: &LoginCheck,
        audit: &AuditRecord,
    ) -> Result<LoginOutcome, StoreError>;
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError>;
    /// Spends a refresh token. Atomic: of two refreshes with one token, one rotates and the
    /// other finds it spent. Rotating writes `rotated` (moving the session's `expires_at` and
    /// `last_active_at`); a reuse revokes the session, spends every token of it and writes
    /// `reused`.
    async fn rotate_refresh(
        &self,
        rotation: &RefreshRotation,
        rotated: &AuditRecord,
        reused: &AuditRecord,
    ) -> Result<RefreshOutcome, StoreError>;

    /// Stores a new device request with its audit row; requests expired by its `created_at`
    /// are swept.
    async fn create_device_grant(
        &self,
        grant: &DeviceGrantRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;
    async fn device_grant(
        &self,
        user_code_hash: &str,
    ) -> Result<Option<DeviceGrantRecord>, StoreError>;
    /// Approves or denies a pending, unexpired request (`decision` is not `Pending`); `false`
    /// (nothing written) when there is none. Atomic: of two decisions, the first holds.
    async fn decide_device_grant(
        &self,
        user_code_hash: &str,
        decision: DeviceDecision,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    /// One poll at `at` (see [`DevicePoll`]); `grace_ms` is how much sooner than the interval a
    /// poll may come without `slow_down`. Atomic: an approved code is handed out once.
    async fn poll_device_grant(
        &self,
        device_hash: &str,
        at: DateTime<Utc>,
        grace_ms: i64,
    ) -> Result<DevicePoll, StoreError>;
    async fn session_by_id(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError>;
    /// Marks the session revoked (if it is not already); `false` when no such session exists.
    /// The audit row is written only when this call revoked it.
    async fn revoke_session(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    /// The user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError>;
    /// Revokes every live session of the user (but `except`); returns the ones it revoked.
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        sweep: SessionSweep,
        audit: &AuditRecord,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Batched `last_active_at`; a stamp never moves it backwards, and stamps for rows that no
    /// longer exist are ignored. Concurrent flushes of one session must not fail.
    async fn touch_sessions(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError>;

    async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    async fn token_by_id(&self, id: Uuid) -> Result<Option<TokenRecord>, StoreError>;
    /// The user's tokens, newest first, revoked and expired included.
    async fn tokens_of_user(&self, user_id: Uuid) -> Result<Vec<TokenRecord>, StoreError>;
    /// The admin inventory, newest first, with each owner's email (if the owner still exists),
    /// and the number of all matches.
    async fn list_tokens(&self, filter: &TokenFilter) -> Result<TokenPage, StoreError>;
    /// Marks the token revoked (if it is not already); `false` when no such token exists.
    /// The audit row is written only when this call revoked it.
    async fn revoke_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    /// Batched `last_used_at` / `last_used_ip`; an older stamp never overwrites a newer one.
    /// Concurrent flushes of one token must not fail.
    async fn touch_tokens(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError>;

    /// Inserts a group with its audit row; `NameTaken` when another has its name
    /// (case-insensitively). Atomic: the check and the insert.
    async fn create_group(
        &self,
        group: &GroupRecord,
        audit: &AuditRecord,
    ) -> Result<GroupOutcome, StoreError>;
    async fn group_by_id(&self, id: Uuid) -> Result<Option<GroupRecord>, StoreError>;
    /// `name` compared case-insensitively.
    async fn group_by_name(&self, name: &str) -> Result<Option<GroupRecord>, StoreError>;
    /// One page of groups by name, each with its member count, and the number of all matches.
    async fn list_groups(
        &self,
        filter: &GroupFilter,
    ) -> Result<(Vec<(GroupRecord, u64)>, u64), StoreError>;
    /// Every group whose `external_ids` hold one of `values` (for single sign-on).
    async fn groups_with_external_ids(
        &self,
        values: &[String],
    ) -> Result<Vec<GroupRecord>, StoreError>;
    /// Applies `change` at `at`. Atomic: the name check and the write.
    async fn update_group(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        change: &GroupChange,
        audit: &AuditRecord,
    ) -> Result<GroupOutcome, StoreError>;
    /// Deletes the group and its memberships; the ids of its members then, or `None` when
    /// there is no such group.
    async fn delete_group(
        &self,
        id: Uuid,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<Uuid>>, StoreError>;
    /// The group's members, by email.
    async fn group_members(&self, group_id: Uuid) -> Result<Vec<MemberRecord>, StoreError>;
    /// Makes the user an admin-added member. Atomic: the checks and the write; the audit row
    /// only when something changed.
    async fn add_member(
        &self,
        group_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<AddMemberOutcome, StoreError>;
    /// Removes an admin-added membership (an SSO one is refused). Atomic.
    async fn remove_member(
        &self,
        group_id: Uuid,
        user_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<RemoveMemberOutcome, StoreError>;
    /// The user's groups, with how they came to be in each.
    async fn groups_of_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(GroupRecord, da_types::MembershipSource)>, StoreError>;
    /// The identity single sign-on linked the user to, if any.
    async fn sso_identity_of(&self, user_id: Uuid) -> Result<Option<SsoIdentity>, StoreError>;
    /// The roles the groups of each of these users grant: `(user, role)` pairs.
    async fn group_roles_of_users(&self, users: &[Uuid]) -> Result<Vec<(Uuid, Role)>, StoreError>;
    /// Single sign-on's part of the user's memberships: adds `add` as SSO memberships (where
    /// the user is not a member already) and removes the SSO memberships of `remove` (an
    /// admin's are never touched); returns what changed, `(added, removed)`, and writes the
    /// audit row `audit` makes of it, only when something changed — so the row names what
    /// this sync did, not what it planned, should another write have raced it. Atomic;
    /// applying the same sync twice changes nothing.
    async fn sync_sso_memberships(
        &self,
        user_id: Uuid,
        add: &[Uuid],
        remove: &[Uuid],
        at: DateTime<Utc>,
        audit: SyncAudit,
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), StoreError>;

    /// Every dataset with its grants, by name.
    async fn datasets(&self) -> Result<Vec<DatasetRecord>, StoreError>;
    async fn dataset(&self, name: &str) -> Result<Option<DatasetRecord>, StoreError>;
    /// Records a new dataset, or a replaced file of one (keeping its description unless
    /// `description` is given, its minimum role and its grants). Returns the row as written
    /// and whether it is new.
    async fn put_dataset(
        &self,
        record: &DatasetRecord,
        description: Option<&str>,
        audit: &AuditRecord,
    ) -> Result<(DatasetRecord, bool), StoreError>;
    /// The row as written, or `None` when there is no such dataset (no audit row then).
    async fn update_dataset(
        &self,
        name: &str,
        change: &DatasetChange,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<DatasetRecord>, StoreError>;
    /// Deletes the dataset's row and grants; `false` when there was none.
    async fn delete_dataset(&self, name: &str, audit: &AuditRecord) -> Result<bool, StoreError>;
    /// Idempotent: audited only when it granted.
    async fn grant_dataset(
        &self,
        name: &str,
        group_id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<GrantOutcome, StoreError>;
    /// `false` when there was no such grant.
    async fn revoke_dataset(
        &self,
        name: &str,
        group_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;

    /// Records `key` as used until `expires_at`; `false` when it already is (a replay).
    /// Atomic, so of racing claims exactly one wins; keys expired by `now` are swept.
    async fn claim_single_use(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// A secret every replica must share (the JWT key): the one stored under `name`, or, when
    /// there is none yet, `candidate`, stored then. Atomic: of racing first calls, all get
    /// the same secret.
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// Tells the other replicas sharing this database that `items` changed; called after the
    /// write committed. A backend that allows one process per database has no one to tell.
    async fn broadcast(&self, items: &[Invalidation]) -> Result<(), StoreError>;
    /// Tells the other replicas how a password check ended (for their brakes).
    async fn announce_password(&self, news: &PasswordNews) -> Result<(), StoreError>;
    /// What the other replicas broadcast, from now on; `None` when there can be none.
    fn remote_changes(&self) -> Option<tokio::sync::broadcast::Receiver<RemoteChange>>;

    /// The chain's head and how many rows stand at or before it (or have no `seq`), read in
    /// one snapshot.
    async fn audit_chain_state(&self) -> Result<AuditChainState, StoreError>;
    /// Up to `limit` rows with `seq > after_seq`, by `seq`, with their chain hashes.
    async fn audit_chain(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<ChainedAudit>, StoreError>;
    /// An audit row that stands alone (e.g. a failed login, which changes nothing else).
    async fn insert_audit(&self, audit: &AuditRecord) -> Result<(), StoreError>;
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;
    /// How many rows match `filter` (its `limit` and `before` ignored).
    async fn count_audit(&self, filter: &AuditFilter) -> Result<u64, StoreError>;
}
