//! Login sessions' SQL.

use crate::rows::{SESSION_COLUMNS, parse_uuid, session_from_row, ts, ts_opt};
use chrono::{DateTime, Utc};
use da_domain::store::{ActivityStamp, SessionRecord, SessionSweep};
use duckdb::{Connection, OptionalExt, params};
use uuid::Uuid;

pub(crate) fn insert(conn: &Connection, session: &SessionRecord) -> Result<(), duckdb::Error> {
    conn.execute(
        &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        params![
            session.id.to_string(),
            session.user_id.to_string(),
            session.device_label,
            session.ip,
            ts(session.created_at),
            ts(session.last_active_at),
            ts(session.expires_at),
            ts_opt(session.revoked_at),
        ],
    )?;
    Ok(())
}

pub(crate) fn by_id(conn: &Connection, id: Uuid) -> Result<Option<SessionRecord>, duckdb::Error> {
    conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
    ))?
    .query_row([id.to_string()], session_from_row)
    .optional()
}

pub(crate) fn live(
    conn: &Connection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRecord>, duckdb::Error> {
    let mut select = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions
         WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
         ORDER BY created_at DESC"
    ))?;
    select
        .query_map(params![user_id.to_string(), ts(now)], session_from_row)?
        .collect()
}

/// Revokes the user's live sessions (but `sweep.except`) and returns their ids.
pub(crate) fn sweep(
    conn: &Connection,
    user_id: Uuid,
    sweep: SessionSweep,
) -> Result<Vec<Uuid>, duckdb::Error> {
    let except = sweep.except.map(|id| id.to_string()).unwrap_or_default();
    let ids = conn
        .prepare(
            "SELECT id FROM sessions
             WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND id <> ?",
        )?
        .query_map(params![user_id.to_string(), ts(sweep.at), except], |row| {
            parse_uuid(&row.get::<_, String>(0)?)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut update = conn.prepare("UPDATE sessions SET revoked_at = ? WHERE id = ?")?;
    for id in &ids {
        update.execute(params![ts(sweep.at), id.to_string()])?;
    }
    Ok(ids)
}

pub(crate) fn touch(conn: &Connection, stamps: &[ActivityStamp]) -> Result<(), duckdb::Error> {
    let mut update = conn
        .prepare("UPDATE sessions SET last_active_at = greatest(last_active_at, ?) WHERE id = ?")?;
    for stamp in stamps {
        update.execute(params![ts(stamp.at), stamp.id.to_string()])?;
    }
    Ok(())
}

/// Marks one row of `table` (sessions or tokens) revoked at `at`. `None` when there is no such
/// row, `Some(false)` when it was revoked already.
pub(crate) fn revoke_row(
    conn: &Connection,
    table: &'static str,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<bool>, duckdb::Error> {
    let exists: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE id = ?"),
        [id.to_string()],
        |row| row.get(0),
    )?;
    if exists == 0 {
        return Ok(None);
    }
    let changed = conn.execute(
        &format!("UPDATE {table} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
        params![ts(at), id.to_string()],
    )?;
    Ok(Some(changed > 0))
}
