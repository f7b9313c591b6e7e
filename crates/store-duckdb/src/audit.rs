//! The audit log's SQL.

use crate::conditions::Conditions;
use crate::rows::{AUDIT_COLUMNS, audit_from_row, credential_kind_str, ts};
use chrono::SubsecRound;
use da_domain::audit_chain::{self, ChainedAudit};
use da_domain::store::{AuditChainState, AuditFilter, AuditRecord};
use duckdb::{Connection, params, params_from_iter};

/// Appends the row to the hash chain. The head moves in the same transaction (one row,
/// updated with `RETURNING`: DuckDB has no data-modifying CTE to make it one statement), and
/// the single writer orders appends.
pub(crate) fn insert(conn: &Connection, audit: &AuditRecord) -> Result<(), duckdb::Error> {
    // Stored to the microsecond, as hashed.
    let audit = &AuditRecord {
        at: audit.at.trunc_subsecs(6),
        ..audit.clone()
    };
    let (seq, hash): (i64, String) = conn
        .prepare_cached(
            "UPDATE audit_chain SET seq = seq + 1, \
             hash = sha256(hash || ? || CAST(seq + 1 AS VARCHAR) || '}') RETURNING seq, hash",
        )?
        .query_row([audit_chain::canonical_head(audit)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    conn.prepare_cached(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}, seq, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))?
    .execute(params![
        audit.id.to_string(),
        ts(audit.at),
        audit.actor_id.map(|id| id.to_string()),
        audit.actor_email,
        audit.action,
        audit.resource,
        audit.params.to_string(),
        audit.ip,
        audit.credential.map(|c| credential_kind_str(c.kind)),
        audit.credential.map(|c| c.id.to_string()),
        seq,
        hash,
    ])?;
    Ok(())
}

pub(crate) fn chain_state(conn: &Connection) -> Result<AuditChainState, duckdb::Error> {
    conn.query_row(
        "SELECT c.seq, c.hash, \
         (SELECT count(*) FROM audit_log a WHERE a.seq IS NULL OR a.seq <= c.seq) \
         FROM audit_chain c",
        [],
        |row| {
            Ok(AuditChainState {
                head_seq: row.get::<_, i64>(0)?.max(0) as u64,
                head_hash: row.get(1)?,
                rows: row.get::<_, i64>(2)?.max(0) as u64,
            })
        },
    )
}

/// Rows after `after_seq`, in chain order.
pub(crate) fn chain(
    conn: &Connection,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<ChainedAudit>, duckdb::Error> {
    let mut select = conn.prepare_cached(&format!(
        "SELECT {AUDIT_COLUMNS}, seq, coalesce(hash, '') FROM audit_log \
         WHERE seq > ? ORDER BY seq LIMIT ?"
    ))?;
    select
        .query_map(
            params![i64::try_from(after_seq).unwrap_or(i64::MAX), limit],
            |row| {
                Ok(ChainedAudit {
                    record: audit_from_row(row)?,
                    seq: row.get::<_, i64>(10)? as u64,
                    hash: row.get(11)?,
                })
            },
        )?
        .collect()
}

/// Hashes rows that have a `seq` but no `hash` yet (the rows a migration numbered), in order,
/// after the chain's head; how many it hashed.
pub(crate) fn chain_unhashed(conn: &mut Connection) -> Result<u64, duckdb::Error> {
    let tx = conn.transaction()?;
    let mut previous: String =
        tx.query_row("SELECT hash FROM audit_chain", [], |row| row.get(0))?;
    let rows: Vec<(i64, AuditRecord)> = tx
        .prepare(&format!(
            "SELECT {AUDIT_COLUMNS}, seq FROM audit_log \
             WHERE hash IS NULL AND seq > (SELECT seq FROM audit_chain) ORDER BY seq"
        ))?
        .query_map([], |row| Ok((row.get(10)?, audit_from_row(row)?)))?
        .collect::<Result<_, _>>()?;
    let Some((last_seq, _)) = rows.last() else {
        return Ok(0);
    };
    let last_seq = *last_seq;
    {
        let mut update = tx.prepare("UPDATE audit_log SET hash = ? WHERE id = ?")?;
        for (seq, record) in &rows {
            let hash =
                audit_chain::link(&previous, &audit_chain::canonical_head(record), *seq as u64);
            update.execute(params![hash, record.id.to_string()])?;
            previous = hash;
        }
    }
    tx.execute(
        "UPDATE audit_chain SET seq = ?, hash = ?",
        params![last_seq, previous],
    )?;
    tx.commit()?;
    Ok(rows.len() as u64)
}

/// The WHERE clause of a filter; with `paged`, also the cursor position.
fn where_clause(filter: &AuditFilter, paged: bool) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(prefix) = &filter.action_prefix {
        conditions.add("starts_with(action, ?)", vec![Box::new(prefix.clone())]);
    }
    if let Some(actor) = filter.actor_id {
        conditions.add("actor_id = ?", vec![Box::new(actor.to_string())]);
    }
    if let Some(needle) = &filter.actor_contains {
        conditions.add(
            "contains(lower(actor_email), ?)",
            vec![Box::new(needle.clone())],
        );
    }
    if let Some(resource) = &filter.resource {
        conditions.add("resource = ?", vec![Box::new(resource.clone())]);
    }
    if let Some(since) = filter.since {
        conditions.add("occurred_at >= ?", vec![Box::new(ts(since))]);
    }
    if let Some(until) = filter.until {
        conditions.add("occurred_at < ?", vec![Box::new(ts(until))]);
    }
    if let Some((at, id)) = filter.before.filter(|_| paged) {
        conditions.add(
            "(occurred_at < ? OR (occurred_at = ? AND id < ?))",
            vec![Box::new(ts(at)), Box::new(ts(at)), Box::new(id.to_string())],
        );
    }
    conditions
}

pub(crate) fn list(
    conn: &Connection,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, duckdb::Error> {
    let conditions = where_clause(filter, true);
    let mut select = conn.prepare_cached(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log {} ORDER BY occurred_at DESC, id DESC LIMIT {}",
        conditions.sql(),
        filter.limit
    ))?;
    select
        .query_map(params_from_iter(conditions.params()), audit_from_row)?
        .collect()
}

pub(crate) fn count(conn: &Connection, filter: &AuditFilter) -> Result<u64, duckdb::Error> {
    let conditions = where_clause(filter, false);
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM audit_log {}",
        conditions.sql()
    ))?
    .query_row(params_from_iter(conditions.params()), |row| row.get(0))
}
