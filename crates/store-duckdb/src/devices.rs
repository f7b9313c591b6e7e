//! CLI sign-in's SQL: refresh tokens (one family per session) and device requests.

use crate::rows::{parse_uuid, parse_uuid_opt, ts, ts_opt, utc};
use chrono::{DateTime, Duration, Utc};
use da_domain::store::{
    DeviceDecision, DeviceGrantRecord, DevicePoll, RefreshRecord, poll_outcome,
};
use duckdb::{Connection, OptionalExt, Row, params};
use uuid::Uuid;

pub(crate) fn insert_refresh(
    conn: &Connection,
    token_hash: &str,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), duckdb::Error> {
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?, ?, ?)",
    )?
    .execute(params![token_hash, session_id.to_string(), ts(at)])?;
    Ok(())
}

pub(crate) fn refresh_by_hash(
    conn: &Connection,
    token_hash: &str,
) -> Result<Option<RefreshRecord>, duckdb::Error> {
    conn.prepare_cached(
        "SELECT token_hash, session_id, issued_at, spent_at FROM refresh_tokens WHERE token_hash = ?",
    )?
    .query_row([token_hash], |row| {
        Ok(RefreshRecord {
            token_hash: row.get(0)?,
            session_id: parse_uuid(&row.get::<_, String>(1)?)?,
            issued_at: utc(row.get(2)?),
            spent_at: row.get::<_, Option<_>>(3)?.map(utc),
        })
    })
    .optional()
}

/// Marks the token spent; `false` when it was spent already.
pub(crate) fn spend(
    conn: &Connection,
    token_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, duckdb::Error> {
    let changed = conn
        .prepare_cached(
            "UPDATE refresh_tokens SET spent_at = ? WHERE token_hash = ? AND spent_at IS NULL",
        )?
        .execute(params![ts(at), token_hash])?;
    Ok(changed > 0)
}

/// Spends every unspent token of the session (its family).
pub(crate) fn spend_family(
    conn: &Connection,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), duckdb::Error> {
    conn.prepare_cached(
        "UPDATE refresh_tokens SET spent_at = ? WHERE session_id = ? AND spent_at IS NULL",
    )?
    .execute(params![ts(at), session_id.to_string()])?;
    Ok(())
}

/// Moves a CLI session's idle expiry on and stamps its use.
pub(crate) fn extend_session(
    conn: &Connection,
    session_id: Uuid,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), duckdb::Error> {
    conn.prepare_cached(
        "UPDATE sessions SET expires_at = ?, last_active_at = greatest(last_active_at, ?) WHERE id = ?",
    )?
    .execute(params![ts(expires_at), ts(at), session_id.to_string()])?;
    Ok(())
}

const GRANT_COLUMNS: &str = "device_hash, user_code_hash, client_name, ip, created_at, expires_at, \
                             interval_seconds, last_poll_at, decision, user_id, \
                             approved_by_session";

fn grant_from_row(row: &Row<'_>) -> Result<DeviceGrantRecord, duckdb::Error> {
    let user_id = parse_uuid_opt(row.get(9)?)?;
    let session_id = parse_uuid_opt(row.get(10)?)?;
    let decision = match (row.get::<_, String>(8)?.as_str(), user_id, session_id) {
        ("approved", Some(user_id), Some(session_id)) => DeviceDecision::Approved {
            user_id,
            session_id,
        },
        ("denied", _, _) => DeviceDecision::Denied,
        _ => DeviceDecision::Pending,
    };
    Ok(DeviceGrantRecord {
        device_hash: row.get(0)?,
        user_code_hash: row.get(1)?,
        client_name: row.get(2)?,
        ip: row.get(3)?,
        created_at: utc(row.get(4)?),
        expires_at: utc(row.get(5)?),
        interval_seconds: row.get(6)?,
        last_poll_at: row.get::<_, Option<_>>(7)?.map(utc),
        decision,
    })
}

/// Inserts a request, sweeping those expired by its creation.
pub(crate) fn insert_grant(
    conn: &Connection,
    grant: &DeviceGrantRecord,
) -> Result<(), duckdb::Error> {
    conn.prepare_cached("DELETE FROM device_grants WHERE expires_at <= ?")?
        .execute([ts(grant.created_at)])?;
    conn.prepare_cached(&format!(
        "INSERT INTO device_grants ({GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL, NULL)"
    ))?
    .execute(params![
        grant.device_hash,
        grant.user_code_hash,
        grant.client_name,
        grant.ip,
        ts(grant.created_at),
        ts(grant.expires_at),
        grant.interval_seconds,
        ts_opt(grant.last_poll_at),
    ])?;
    Ok(())
}

pub(crate) fn grant_by_user_code(
    conn: &Connection,
    user_code_hash: &str,
) -> Result<Option<DeviceGrantRecord>, duckdb::Error> {
    conn.prepare_cached(&format!(
        "SELECT {GRANT_COLUMNS} FROM device_grants WHERE user_code_hash = ?"
    ))?
    .query_row([user_code_hash], grant_from_row)
    .optional()
}

/// Approves or denies a pending, unexpired request; `false` when there is none.
pub(crate) fn decide(
    conn: &Connection,
    user_code_hash: &str,
    decision: DeviceDecision,
    at: DateTime<Utc>,
) -> Result<bool, duckdb::Error> {
    let (status, user, session) = match decision {
        DeviceDecision::Approved {
            user_id,
            session_id,
        } => (
            "approved",
            Some(user_id.to_string()),
            Some(session_id.to_string()),
        ),
        DeviceDecision::Denied => ("denied", None, None),
        DeviceDecision::Pending => return Ok(false),
    };
    let changed = conn
        .prepare_cached(
            "UPDATE device_grants SET decision = ?, user_id = ?, approved_by_session = ? \
             WHERE user_code_hash = ? AND decision = 'pending' AND expires_at > ?",
        )?
        .execute(params![status, user, session, user_code_hash, ts(at)])?;
    Ok(changed > 0)
}

/// One poll (see [`DevicePoll`]).
pub(crate) fn poll(
    conn: &Connection,
    device_hash: &str,
    at: DateTime<Utc>,
    grace_ms: i64,
) -> Result<DevicePoll, duckdb::Error> {
    let Some(grant) = conn
        .prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM device_grants WHERE device_hash = ?"
        ))?
        .query_row([device_hash], grant_from_row)
        .optional()?
    else {
        return Ok(DevicePoll::Unknown);
    };
    let outcome = poll_outcome(&grant, at, Duration::milliseconds(grace_ms));
    match &outcome {
        DevicePoll::Pending => {
            conn.prepare_cached("UPDATE device_grants SET last_poll_at = ? WHERE device_hash = ?")?
                .execute(params![ts(at), device_hash])?;
        }
        DevicePoll::SlowDown => {
            conn.prepare_cached(
                "UPDATE device_grants SET last_poll_at = ?, interval_seconds = interval_seconds + ? \
                 WHERE device_hash = ?",
            )?
            .execute(params![
                ts(at),
                da_types::DEVICE_SLOW_DOWN_SECONDS as i64,
                device_hash
            ])?;
        }
        _ => {
            conn.prepare_cached("DELETE FROM device_grants WHERE device_hash = ?")?
                .execute([device_hash])?;
        }
    }
    Ok(outcome)
}
