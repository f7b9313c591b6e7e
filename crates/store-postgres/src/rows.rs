//! Conversions between PostgreSQL rows and domain records. Ids are `UUID`, times
//! `TIMESTAMPTZ`, JSON values `JSONB`, so most columns map straight onto their Rust types;
//! roles, kinds and sources are text checked here.

use da_domain::store::{
    AuditRecord, CredentialRef, GroupRecord, LinkKind, OneTimeToken, SessionRecord, TokenRecord,
    UserRecord,
};
use da_types::{CredentialKind, MembershipSource, Role};
use tokio_postgres::Row;

/// A value in a column that the domain cannot take (an unknown role, say): the row is
/// refused as a whole.
#[derive(Debug, thiserror::Error)]
#[error("column {column}: {what}")]
pub struct BadValue {
    column: &'static str,
    what: String,
}

/// What this crate's SQL functions fail with: the driver, or a value the domain cannot take.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Driver(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Bad(#[from] BadValue),
}

impl BadValue {
    pub fn new(column: &'static str, what: String) -> BadValue {
        BadValue { column, what }
    }
}

fn bad(column: &'static str, what: impl std::fmt::Display) -> BadValue {
    BadValue {
        column,
        what: what.to_string(),
    }
}

pub fn role(column: &'static str, raw: &str) -> Result<Role, BadValue> {
    raw.parse().map_err(|e| bad(column, e))
}

pub fn role_opt(column: &'static str, raw: Option<String>) -> Result<Option<Role>, BadValue> {
    raw.map(|r| role(column, &r)).transpose()
}

pub fn source(raw: &str) -> Result<MembershipSource, BadValue> {
    match raw {
        "admin" => Ok(MembershipSource::Admin),
        "sso" => Ok(MembershipSource::Sso),
        other => Err(bad("source", format!("unknown membership source {other}"))),
    }
}

pub const USER_COLUMNS: &str = "id, email, name, role, active, password_hash, created_at, \
                                updated_at, last_login_at, deactivated_at, deactivated_by, sso";

pub fn user(row: &Row) -> Result<UserRecord, DbError> {
    Ok(UserRecord {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        name: row.try_get(2)?,
        role: role("role", row.try_get(3)?)?,
        active: row.try_get(4)?,
        password_hash: row.try_get(5)?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
        last_login_at: row.try_get(8)?,
        deactivated_at: row.try_get(9)?,
        deactivated_by: row.try_get(10)?,
        sso: row.try_get(11)?,
    })
}

/// The group columns, each prefixed with `alias.`.
pub fn group_columns(alias: &str) -> String {
    [
        "id",
        "name",
        "description",
        "role",
        "external_ids",
        "created_at",
        "updated_at",
    ]
    .iter()
    .map(|c| format!("{alias}.{c}"))
    .collect::<Vec<_>>()
    .join(", ")
}

pub fn group(row: &Row) -> Result<GroupRecord, DbError> {
    let external_ids: serde_json::Value = row.try_get(4)?;
    Ok(GroupRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        role: role_opt("role", row.try_get(3)?)?,
        external_ids: serde_json::from_value(external_ids).map_err(|e| bad("external_ids", e))?,
        created_at: row.try_get(5)?,
        updated_at: row.try_get(6)?,
    })
}

pub const SESSION_COLUMNS: &str =
    "id, user_id, device_label, ip, created_at, last_active_at, expires_at, revoked_at";

pub fn session(row: &Row) -> Result<SessionRecord, DbError> {
    Ok(SessionRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        device_label: row.try_get(2)?,
        ip: row.try_get(3)?,
        created_at: row.try_get(4)?,
        last_active_at: row.try_get(5)?,
        expires_at: row.try_get(6)?,
        revoked_at: row.try_get(7)?,
    })
}

/// The token columns, each prefixed with `alias.`.
pub fn token_columns(alias: &str) -> String {
    [
        "id",
        "user_id",
        "name",
        "prefix",
        "token_hash",
        "role",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    .iter()
    .map(|c| format!("{alias}.{c}"))
    .collect::<Vec<_>>()
    .join(", ")
}

pub fn token(row: &Row) -> Result<TokenRecord, DbError> {
    Ok(TokenRecord {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        prefix: row.try_get(3)?,
        token_hash: row.try_get(4)?,
        role: role_opt("role", row.try_get(5)?)?,
        created_at: row.try_get(6)?,
        expires_at: row.try_get(7)?,
        last_used_at: row.try_get(8)?,
        last_used_ip: row.try_get(9)?,
        revoked_at: row.try_get(10)?,
    })
}

pub const LINK_COLUMNS: &str = "user_id, kind, token_hash, created_at, expires_at";

pub fn link(row: &Row) -> Result<OneTimeToken, DbError> {
    let kind = match row.try_get::<_, &str>(1)? {
        "reset" => LinkKind::Reset,
        "setup" => LinkKind::Setup,
        other => return Err(bad("kind", format!("unknown link kind {other}")).into()),
    };
    Ok(OneTimeToken {
        user_id: row.try_get(0)?,
        kind,
        token_hash: row.try_get(2)?,
        created_at: row.try_get(3)?,
        expires_at: row.try_get(4)?,
    })
}

pub const AUDIT_COLUMNS: &str = "id, occurred_at, actor_id, actor_email, action, resource, \
                                 params, ip, credential_kind, credential_id";

pub fn credential_kind_str(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Session => "session",
        CredentialKind::Pat => "pat",
    }
}

pub fn audit(row: &Row) -> Result<AuditRecord, DbError> {
    let credential = match (
        row.try_get::<_, Option<&str>>(8)?,
        row.try_get::<_, Option<uuid::Uuid>>(9)?,
    ) {
        (Some(kind), Some(id)) => Some(CredentialRef {
            kind: match kind {
                "session" => CredentialKind::Session,
                "pat" => CredentialKind::Pat,
                other => {
                    return Err(bad("credential_kind", format!("unknown kind {other}")).into());
                }
            },
            id,
        }),
        _ => None,
    };
    Ok(AuditRecord {
        id: row.try_get(0)?,
        at: row.try_get(1)?,
        actor_id: row.try_get(2)?,
        actor_email: row.try_get(3)?,
        credential,
        action: row.try_get(4)?,
        resource: row.try_get(5)?,
        params: row.try_get(6)?,
        ip: row.try_get(7)?,
    })
}

/// Reads every row with `read`.
pub fn all<T>(
    rows: Vec<Row>,
    read: impl Fn(&Row) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    rows.iter().map(read).collect()
}

impl From<DbError> for da_domain::StoreError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Driver(err) => crate::errors::store_error(err),
            DbError::Bad(bad) => da_domain::StoreError::Other(bad.to_string()),
        }
    }
}
