//! The audit log's SQL.

use crate::conditions::Conditions;
use crate::rows::{self, AUDIT_COLUMNS, DbError, credential_kind_str};
use da_domain::store::{AuditFilter, AuditRecord};
use deadpool_postgres::GenericClient;

pub(crate) async fn insert(db: &impl GenericClient, audit: &AuditRecord) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO audit_log ({AUDIT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .await?;
    db.execute(
        &statement,
        &[
            &audit.id,
            &audit.at,
            &audit.actor_id,
            &audit.actor_email,
            &audit.action,
            &audit.resource,
            &audit.params,
            &audit.ip,
            &audit.credential.map(|c| credential_kind_str(c.kind)),
            &audit.credential.map(|c| c.id),
        ],
    )
    .await?;
    Ok(())
}

/// The WHERE clause of a filter; with `paged`, also the cursor position.
fn where_clause(filter: &AuditFilter, paged: bool) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(prefix) = &filter.action_prefix {
        conditions.add("starts_with(action, ?)", vec![Box::new(prefix.clone())]);
    }
    if let Some(actor) = filter.actor_id {
        conditions.add("actor_id = ?", vec![Box::new(actor)]);
    }
    if let Some(needle) = &filter.actor_contains {
        conditions.add(
            "strpos(lower(actor_email), ?) > 0",
            vec![Box::new(needle.clone())],
        );
    }
    if let Some(resource) = &filter.resource {
        conditions.add("resource = ?", vec![Box::new(resource.clone())]);
    }
    if let Some(since) = filter.since {
        conditions.add("occurred_at >= ?", vec![Box::new(since)]);
    }
    if let Some(until) = filter.until {
        conditions.add("occurred_at < ?", vec![Box::new(until)]);
    }
    if let Some((at, id)) = filter.before.filter(|_| paged) {
        conditions.add(
            "(occurred_at, id) < (?, ?)",
            vec![Box::new(at), Box::new(id)],
        );
    }
    conditions
}

pub(crate) async fn list(
    db: &impl GenericClient,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, DbError> {
    let conditions = where_clause(filter, true);
    let statement = db
        // Not cached: each page would stay prepared on the connection for good.
        .prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log {} ORDER BY occurred_at DESC, id DESC LIMIT {}",
            conditions.sql(),
            filter.limit
        ))
        .await?;
    rows::all(
        db.query(&statement, &conditions.params()).await?,
        rows::audit,
    )
}

pub(crate) async fn count(db: &impl GenericClient, filter: &AuditFilter) -> Result<u64, DbError> {
    let conditions = where_clause(filter, false);
    let statement = db
        .prepare_cached(&format!(
            "SELECT count(*) FROM audit_log {}",
            conditions.sql()
        ))
        .await?;
    let count: i64 = db
        .query_one(&statement, &conditions.params())
        .await?
        .try_get(0)?;
    Ok(count.max(0) as u64)
}
