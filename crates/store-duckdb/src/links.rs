//! One-time links' SQL (at most one pending link per user and kind), and single-use keys.

use crate::rows::{LINK_COLUMNS, link_from_row, ts};
use chrono::{DateTime, Utc};
use da_domain::store::{LinkKind, OneTimeToken};
use duckdb::{Connection, OptionalExt, params};
use uuid::Uuid;

/// Replaces the user's pending link of this kind. (No UNIQUE index does it: DuckDB checks
/// unique indexes eagerly within a transaction, which would refuse delete-then-insert of one
/// key; the single writer makes the pair atomic.)
pub(crate) fn replace(conn: &Connection, link: &OneTimeToken) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM one_time_tokens WHERE user_id = ? AND kind = ?",
        params![link.user_id.to_string(), link.kind.as_str()],
    )?;
    conn.execute(
        &format!("INSERT INTO one_time_tokens ({LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?)"),
        params![
            link.user_id.to_string(),
            link.kind.as_str(),
            link.token_hash,
            ts(link.created_at),
            ts(link.expires_at),
        ],
    )?;
    Ok(())
}

/// Whether a pending link of this kind was made at or after `since`.
pub(crate) fn made_since(
    conn: &Connection,
    user_id: Uuid,
    kind: LinkKind,
    since: DateTime<Utc>,
) -> Result<bool, duckdb::Error> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM one_time_tokens WHERE user_id = ? AND kind = ? AND created_at >= ?",
        params![user_id.to_string(), kind.as_str(), ts(since)],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

/// Deletes the link if it is still pending with this hash and unexpired at `at`; whether it
/// was.
pub(crate) fn consume(
    conn: &Connection,
    user_id: Uuid,
    kind: LinkKind,
    token_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, duckdb::Error> {
    let consumed = conn.execute(
        "DELETE FROM one_time_tokens
         WHERE user_id = ? AND kind = ? AND token_hash = ? AND expires_at > ?",
        params![user_id.to_string(), kind.as_str(), token_hash, ts(at)],
    )?;
    Ok(consumed > 0)
}

pub(crate) fn delete_all(conn: &Connection, user_id: Uuid) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM one_time_tokens WHERE user_id = ?",
        [user_id.to_string()],
    )?;
    Ok(())
}

pub(crate) fn get(
    conn: &Connection,
    user_id: Uuid,
    kind: LinkKind,
) -> Result<Option<OneTimeToken>, duckdb::Error> {
    conn.query_row(
        &format!("SELECT {LINK_COLUMNS} FROM one_time_tokens WHERE user_id = ? AND kind = ?"),
        params![user_id.to_string(), kind.as_str()],
        link_from_row,
    )
    .optional()
}

/// Records `key` as used until `expires_at`, sweeping keys expired by `now`; whether it was
/// free. Runs on the single writer, so the check and the insert cannot interleave.
pub(crate) fn claim_single_use(
    conn: &Connection,
    key: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, duckdb::Error> {
    conn.execute("DELETE FROM single_use WHERE expires_at <= ?", [ts(now)])?;
    let used: i64 = conn.query_row(
        "SELECT count(*) FROM single_use WHERE key = ?",
        [key],
        |row| row.get(0),
    )?;
    if used > 0 {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO single_use (key, expires_at) VALUES (?, ?)",
        params![key, ts(expires_at)],
    )?;
    Ok(true)
}

/// The secret stored under `name`, storing `candidate` first when there is none. Runs on the
/// single writer, so racing first calls agree.
pub(crate) fn shared_secret(
    conn: &Connection,
    name: &str,
    candidate: &[u8],
) -> Result<Vec<u8>, duckdb::Error> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM secrets WHERE name = ?", [name], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(stored) = stored {
        return Ok(stored);
    }
    conn.execute(
        "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, current_timestamp::TIMESTAMP)",
        params![name, candidate],
    )?;
    Ok(candidate.to_vec())
}
