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
    async fn create_user(
        &self,
        user: &UserRecord,
        guard: CreateGuard,
        audit: &AuditRecord,
    ) -> Result<CreateOutcome, StoreError>;

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
    async fn touch_sessions(&self, stamps: &[ActivityStamp]) -> Result<(), StoreError>;

    /// An audit row that stands alone (e.g. a failed login, which changes nothing else).
    async fn insert_audit(&self, audit: &AuditRecord) -> Result<(), StoreError>;
}
