//! The storage boundary: records in domain terms and the [`Store`] trait backends implement.
//!
//! Backends map their driver errors into [`StoreError`] and never leak SQL upwards. Every
//! mutating method takes the audit row to write in the same transaction as the change.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use da_types::Role;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
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

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub params: serde_json::Value,
    pub ip: Option<String>,
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

/// Which tokens the admin inventory returns; values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    pub user_id: Option<Uuid>,
    pub status: Option<da_types::TokenStatus>,
    /// "Now", for telling active from expired.
    pub now: DateTime<Utc>,
    pub limit: u32,
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
    pub limit: u32,
    pub offset: u64,
}

/// Sessions to revoke together with a user write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSweep {
    pub at: DateTime<Utc>,
    /// Keep this one (the caller's own, when they change their own password).
    pub except: Option<Uuid>,
}

/// A change to one user, written atomically with its audit row.
#[derive(Debug, Clone)]
pub struct UserWrite {
    /// The complete new state of the user (matched by id).
    pub user: UserRecord,
    /// Refuse the write (`LastAdmin`) if afterwards no active admin would remain.
    pub keep_an_admin: bool,
    pub revoke_sessions: Option<SessionSweep>,
    /// Write only if this one-time link is still pending, unexpired and matches this hash;
    /// it is consumed by the same transaction, so of two racing writes exactly one succeeds.
    pub consume_link: Option<(LinkKind, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Done; these sessions were revoked by it.
    Written {
        revoked_sessions: Vec<Uuid>,
    },
    NotFound,
    LastAdmin,
    LinkGone,
}

/// Audit rows matching a query, newest first; values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action_prefix: Option<String>,
    pub actor_id: Option<Uuid>,
    pub resource: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Rows strictly older than this `(at, id)` position (the cursor).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    EmailTaken,
    AdminExists,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"duckdb"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// The highest applied migration.
    async fn schema_version(&self) -> Result<i64, StoreError>;

    async fn count_users(&self) -> Result<u64, StoreError>;
    /// Admins, active or not.
    async fn count_admins(&self) -> Result<u64, StoreError>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError>;
    /// `email` is already normalised.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Inserts a user (and their invite link, if any) with the audit row.
    async fn create_user(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        invite: Option<&OneTimeToken>,
        audit: &AuditRecord,
    ) -> Result<CreateOutcome, StoreError>;
    /// One page of users ordered by email, and the number of all matches.
    async fn list_users(&self, filter: &UserFilter) -> Result<(Vec<UserRecord>, u64), StoreError>;
    async fn write_user(
        &self,
        write: &UserWrite,
        audit: &AuditRecord,
    ) -> Result<WriteOutcome, StoreError>;
    /// Deletes the user and revokes their sessions; their audit rows stay.
    async fn delete_user(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<WriteOutcome, StoreError>;

    /// Stores a link, replacing a pending one of the same user and kind.
    async fn put_link(&self, link: &OneTimeToken, audit: &AuditRecord) -> Result<(), StoreError>;
    async fn link(&self, user_id: Uuid, kind: LinkKind)
    -> Result<Option<OneTimeToken>, StoreError>;

    /// Records a successful login: the new session, the user's `last_login_at`, the audit row.
    async fn record_login(
        &self,
        session: &SessionRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;
    async fn session_by_id(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError>;
    /// Marks the session revoked (if it is not already); `false` when no such session exists.
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
    async fn list_tokens(
        &self,
        filter: &TokenFilter,
    ) -> Result<(Vec<(TokenRecord, Option<String>)>, u64), StoreError>;
    /// Marks the token revoked (if it is not already); `false` when no such token exists.
    async fn revoke_token(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;
    /// Batched `last_used_at` / `last_used_ip`.
    async fn touch_tokens(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError>;

    /// An audit row that stands alone (e.g. a failed login, which changes nothing else).
    async fn insert_audit(&self, audit: &AuditRecord) -> Result<(), StoreError>;
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;
}
