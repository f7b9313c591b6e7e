//! The audit log's SQL.

use crate::conditions::Conditions;
use crate::rows::{self, AUDIT_COLUMNS, DbError, credential_kind_str};
use chrono::SubsecRound;
use da_domain::audit_chain::{self, ChainedAudit};
use da_domain::store::{AuditChainState, AuditFilter, AuditRecord};
use deadpool_postgres::GenericClient;

/// Appends the row to the hash chain in one statement: the head row's update (whose row lock
/// queues concurrent appenders, each seeing the head the previous one committed) feeds the
/// insert.
pub(crate) async fn insert(db: &impl GenericClient, audit: &AuditRecord) -> Result<(), DbError> {
    // Stored to the microsecond, as hashed.
    let at = audit.at.trunc_subsecs(6);
    let head = audit_chain::canonical_head(&AuditRecord {
        at,
        ..audit.clone()
    });
    let statement = db
        .prepare_cached(&format!(
            "WITH head AS ( \
                 UPDATE audit_chain SET seq = seq + 1, \
                 hash = encode(sha256(convert_to(hash || $11::text || (seq + 1)::text || '}}', 'UTF8')), 'hex') \
                 RETURNING seq, hash) \
             INSERT INTO audit_log ({AUDIT_COLUMNS}, seq, hash) \
             SELECT $1::uuid, $2::timestamptz, $3::uuid, $4::text, $5::text, $6::text, $7::jsonb, \
                    $8::text, $9::text, $10::uuid, head.seq, head.hash FROM head"
        ))
        .await?;
    db.execute(
        &statement,
        &[
            &audit.id,
            &at,
            &audit.actor_id,
            &audit.actor_email,
            &audit.action,
            &audit.resource,
            &audit.params,
            &audit.ip,
            &audit.credential.map(|c| credential_kind_str(c.kind)),
            &audit.credential.map(|c| c.id),
            &head,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn chain_state(db: &impl GenericClient) -> Result<AuditChainState, DbError> {
    let row = db
        .query_one(
            "SELECT c.seq, c.hash, \
             (SELECT count(*) FROM audit_log a WHERE a.seq IS NULL OR a.seq <= c.seq) \
             FROM audit_chain c",
            &[],
        )
        .await?;
    let (seq, rows): (i64, i64) = (row.try_get(0)?, row.try_get(2)?);
    Ok(AuditChainState {
        head_seq: u64::try_from(seq).unwrap_or(0),
        head_hash: row.try_get(1)?,
        rows: u64::try_from(rows).unwrap_or(0),
    })
}

/// Rows after `after_seq`, in chain order.
pub(crate) async fn chain(
    db: &impl GenericClient,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<ChainedAudit>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {AUDIT_COLUMNS}, seq, coalesce(hash, '') FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .await?;
    let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
    let rows = db.query(&statement, &[&after, &i64::from(limit)]).await?;
    rows::all(rows, |row| {
        let seq: i64 = row.try_get(10)?;
        Ok(ChainedAudit {
            record: rows::audit(row)?,
            seq: u64::try_from(seq).unwrap_or(0),
            hash: row.try_get(11)?,
        })
    })
}

/// Hashes rows that have a `seq` but no `hash` yet (the rows a migration numbered), in order,
/// after the chain's head; how many it hashed. Runs inside the migration's transaction.
pub(crate) async fn chain_unhashed(db: &impl GenericClient) -> Result<u64, DbError> {
    let mut previous: String = db
        .query_one("SELECT hash FROM audit_chain", &[])
        .await?
        .try_get(0)?;
    let unhashed = db
        .query(
            &format!(
                "SELECT {AUDIT_COLUMNS}, seq FROM audit_log \
                 WHERE hash IS NULL AND seq > (SELECT seq FROM audit_chain) ORDER BY seq"
            ),
            &[],
        )
        .await?;
    let mut last_seq = None;
    let update = db
        .prepare("UPDATE audit_log SET hash = $2 WHERE id = $1")
        .await?;
    for row in &unhashed {
        let record = rows::audit(row)?;
        let seq: i64 = row.try_get(10)?;
        let hash = audit_chain::link(
            &previous,
            &audit_chain::canonical_head(&record),
            u64::try_from(seq).unwrap_or(0),
        );
        db.execute(&update, &[&record.id, &hash]).await?;
        previous = hash;
        last_seq = Some(seq);
    }
    if let Some(seq) = last_seq {
        db.execute(
            "UPDATE audit_chain SET seq = $1, hash = $2",
            &[&seq, &previous],
        )
        .await?;
    }
    // From here on a row without its place in the chain cannot be written (an old replica
    // still running during an upgrade fails its writes rather than leaving a gap).
    db.batch_execute(
        "ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN hash SET NOT NULL",
    )
    .await?;
    Ok(unhashed.len() as u64)
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
