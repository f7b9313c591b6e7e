//! Conversions between DuckDB values and domain types: timestamps, ids, and whole rows.

use chrono::{DateTime, NaiveDateTime, Utc};
use da_domain::store::{
    AuditRecord, CredentialRef, GroupRecord, LinkKind, OneTimeToken, SessionRecord, TokenRecord,
    UserRecord,
};
use da_types::{CredentialKind, MembershipSource};
use duckdb::Row;
use uuid::Uuid;

pub fn ts(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub fn ts_opt(at: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    at.map(ts)
}

pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub fn parse_uuid(raw: &str) -> Result<Uuid, duckdb::Error> {
    Uuid::parse_str(raw).map_err(|e| {
        duckdb::Error::FromSqlConversionFailure(0, duckdb::types::Type::Text, Box::new(e))
    })
}

pub fn parse_uuid_opt(raw: Option<String>) -> Result<Option<Uuid>, duckdb::Error> {
    raw.map(|id| parse_uuid(&id)).transpose()
}

fn bad_text(column: usize, what: String) -> duckdb::Error {
    duckdb::Error::FromSqlConversionFailure(column, duckdb::types::Type::Text, what.into())
}

pub const USER_COLUMNS: &str = "id, email, name, role, active, password_hash, created_at, \
                                updated_at, last_login_at, deactivated_at, deactivated_by, sso";

pub fn user_from_row(row: &Row<'_>) -> Result<UserRecord, duckdb::Error> {
    let role: String = row.get(3)?;
    Ok(UserRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: role.parse().map_err(|e| bad_text(3, format!("{e}")))?,
        active: row.get(4)?,
        password_hash: row.get(5)?,
        created_at: utc(row.get(6)?),
        updated_at: utc(row.get(7)?),
        last_login_at: row.get::<_, Option<NaiveDateTime>>(8)?.map(utc),
        deactivated_at: row.get::<_, Option<NaiveDateTime>>(9)?.map(utc),
        deactivated_by: parse_uuid_opt(row.get(10)?)?,
        sso: row.get::<_, Option<bool>>(11)?.unwrap_or(false),
    })
}

pub const GROUP_COLUMNS: &str = "id, name, description, role, external_ids, created_at, updated_at";

pub fn group_from_row(row: &Row<'_>) -> Result<GroupRecord, duckdb::Error> {
    let role: Option<String> = row.get(3)?;
    let external_ids: String = row.get(4)?;
    Ok(GroupRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        name: row.get(1)?,
        description: row.get(2)?,
        role: role
            .map(|r| r.parse().map_err(|e| bad_text(3, format!("{e}"))))
            .transpose()?,
        external_ids: serde_json::from_str(&external_ids)
            .map_err(|e| bad_text(4, format!("external_ids: {e}")))?,
        created_at: utc(row.get(5)?),
        updated_at: utc(row.get(6)?),
    })
}

pub fn parse_source(raw: &str) -> Result<MembershipSource, duckdb::Error> {
    match raw {
        "admin" => Ok(MembershipSource::Admin),
        "sso" => Ok(MembershipSource::Sso),
        other => Err(bad_text(0, format!("unknown membership source {other}"))),
    }
}

pub const SESSION_COLUMNS: &str =
    "id, user_id, device_label, ip, created_at, last_active_at, expires_at, revoked_at";

pub fn session_from_row(row: &Row<'_>) -> Result<SessionRecord, duckdb::Error> {
    Ok(SessionRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        user_id: parse_uuid(&row.get::<_, String>(1)?)?,
        device_label: row.get(2)?,
        ip: row.get(3)?,
        created_at: utc(row.get(4)?),
        last_active_at: utc(row.get(5)?),
        expires_at: utc(row.get(6)?),
        revoked_at: row.get::<_, Option<NaiveDateTime>>(7)?.map(utc),
    })
}

pub const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, token_hash, role, created_at, \
                                 expires_at, last_used_at, last_used_ip, revoked_at";

pub fn token_from_row(row: &Row<'_>) -> Result<TokenRecord, duckdb::Error> {
    let role: Option<String> = row.get(5)?;
    Ok(TokenRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        user_id: parse_uuid(&row.get::<_, String>(1)?)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        token_hash: row.get(4)?,
        role: role
            .map(|r| r.parse().map_err(|e| bad_text(5, format!("{e}"))))
            .transpose()?,
        created_at: utc(row.get(6)?),
        expires_at: row.get::<_, Option<NaiveDateTime>>(7)?.map(utc),
        last_used_at: row.get::<_, Option<NaiveDateTime>>(8)?.map(utc),
        last_used_ip: row.get(9)?,
        revoked_at: row.get::<_, Option<NaiveDateTime>>(10)?.map(utc),
    })
}

pub const LINK_COLUMNS: &str = "user_id, kind, token_hash, created_at, expires_at";

pub fn link_from_row(row: &Row<'_>) -> Result<OneTimeToken, duckdb::Error> {
    let kind = match row.get::<_, String>(1)?.as_str() {
        "reset" => LinkKind::Reset,
        "setup" => LinkKind::Setup,
        other => return Err(bad_text(1, format!("unknown link kind {other}"))),
    };
    Ok(OneTimeToken {
        user_id: parse_uuid(&row.get::<_, String>(0)?)?,
        kind,
        token_hash: row.get(2)?,
        created_at: utc(row.get(3)?),
        expires_at: utc(row.get(4)?),
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

pub fn audit_from_row(row: &Row<'_>) -> Result<AuditRecord, duckdb::Error> {
    let params: String = row.get(6)?;
    let credential = match (
        row.get::<_, Option<String>>(8)?,
        row.get::<_, Option<String>>(9)?,
    ) {
        (Some(kind), Some(id)) => Some(CredentialRef {
            kind: match kind.as_str() {
                "session" => CredentialKind::Session,
                "pat" => CredentialKind::Pat,
                other => return Err(bad_text(8, format!("unknown credential kind {other}"))),
            },
            id: parse_uuid(&id)?,
        }),
        _ => None,
    };
    Ok(AuditRecord {
        id: parse_uuid(&row.get::<_, String>(0)?)?,
        at: utc(row.get(1)?),
        actor_id: parse_uuid_opt(row.get(2)?)?,
        actor_email: row.get(3)?,
        credential,
        action: row.get(4)?,
        resource: row.get(5)?,
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
        ip: row.get(7)?,
    })
}
