//! The audit log's SQL.

use crate::conditions::Conditions;
use crate::rows::{AUDIT_COLUMNS, audit_from_row, credential_kind_str, ts};
use da_domain::store::{AuditFilter, AuditRecord};
use duckdb::{Connection, params, params_from_iter};

pub(crate) fn insert(conn: &Connection, audit: &AuditRecord) -> Result<(), duckdb::Error> {
    conn.prepare_cached(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
    ])?;
    Ok(())
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
