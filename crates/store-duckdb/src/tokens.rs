//! Personal access tokens' SQL.

use crate::conditions::Conditions;
use crate::rows::{TOKEN_COLUMNS, parse_uuid, token_from_row, ts, ts_opt};
use chrono::{DateTime, Utc};
use da_domain::store::{ActivityStamp, TokenFilter, TokenPage, TokenRecord};
use da_types::TokenStatus;
use duckdb::{Connection, OptionalExt, params, params_from_iter};
use uuid::Uuid;

pub(crate) fn insert(conn: &Connection, token: &TokenRecord) -> Result<(), duckdb::Error> {
    conn.execute(
        &format!("INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        params![
            token.id.to_string(),
            token.user_id.to_string(),
            token.name,
            token.prefix,
            token.token_hash,
            token.role.map(|r| r.as_str()),
            ts(token.created_at),
            ts_opt(token.expires_at),
            ts_opt(token.last_used_at),
            token.last_used_ip,
            ts_opt(token.revoked_at),
        ],
    )?;
    Ok(())
}

pub(crate) fn by_hash(conn: &Connection, hash: &str) -> Result<Option<TokenRecord>, duckdb::Error> {
    conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE token_hash = ?"
    ))?
    .query_row([hash], token_from_row)
    .optional()
}

pub(crate) fn by_id(conn: &Connection, id: Uuid) -> Result<Option<TokenRecord>, duckdb::Error> {
    conn.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?"))?
        .query_row([id.to_string()], token_from_row)
        .optional()
}

pub(crate) fn of_user(conn: &Connection, user_id: Uuid) -> Result<Vec<TokenRecord>, duckdb::Error> {
    let mut select = conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC"
    ))?;
    select
        .query_map([user_id.to_string()], token_from_row)?
        .collect()
}

pub(crate) fn list(conn: &Connection, filter: &TokenFilter) -> Result<TokenPage, duckdb::Error> {
    let mut conditions = Conditions::default();
    if let Some(user_id) = filter.user_id {
        conditions.add("t.user_id = ?", vec![Box::new(user_id.to_string())]);
    }
    if let Some(needle) = &filter.owner_contains {
        conditions.add("contains(u.email, ?)", vec![Box::new(needle.clone())]);
    }
    match filter.status {
        None => {}
        Some(TokenStatus::Revoked) => conditions.add("t.revoked_at IS NOT NULL", vec![]),
        Some(TokenStatus::Expired) => conditions.add(
            "t.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at <= ?",
            vec![Box::new(ts(filter.now))],
        ),
        Some(TokenStatus::Active) => conditions.add(
            "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)",
            vec![Box::new(ts(filter.now))],
        ),
    }
    let total: u64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM tokens t LEFT JOIN users u ON u.id = t.user_id {}",
            conditions.sql()
        ),
        params_from_iter(conditions.params()),
        |row| row.get(0),
    )?;
    let columns = TOKEN_COLUMNS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut select = conn.prepare_cached(&format!(
        "SELECT {columns}, u.email FROM tokens t LEFT JOIN users u ON u.id = t.user_id
         {} ORDER BY t.created_at DESC, t.id DESC LIMIT {} OFFSET {}",
        conditions.sql(),
        filter.limit,
        filter.offset
    ))?;
    let tokens = select
        .query_map(params_from_iter(conditions.params()), |row| {
            Ok((token_from_row(row)?, row.get::<_, Option<String>>(11)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((tokens, total))
}

/// Revokes every live token of the user; returns their ids.
pub(crate) fn revoke_all_of(
    conn: &Connection,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, duckdb::Error> {
    let ids = conn
        .prepare("SELECT id FROM tokens WHERE user_id = ? AND revoked_at IS NULL")?
        .query_map([user_id.to_string()], |row| {
            parse_uuid(&row.get::<_, String>(0)?)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    conn.execute(
        "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        params![ts(at), user_id.to_string()],
    )?;
    Ok(ids)
}

pub(crate) fn touch(conn: &Connection, stamps: &[ActivityStamp]) -> Result<(), duckdb::Error> {
    let mut update = conn.prepare(
        "UPDATE tokens SET last_used_at = ?, last_used_ip = ?
         WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
    )?;
    for stamp in stamps {
        update.execute(params![
            ts(stamp.at),
            stamp.ip,
            stamp.id.to_string(),
            ts(stamp.at)
        ])?;
    }
    Ok(())
}
