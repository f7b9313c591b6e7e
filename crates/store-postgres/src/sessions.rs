//! Login sessions' SQL.

use crate::rows::{self, DbError, SESSION_COLUMNS};
use chrono::{DateTime, Utc};
use da_domain::store::{ActivityStamp, SessionRecord, SessionSweep};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub(crate) async fn insert(
    db: &impl GenericClient,
    session: &SessionRecord,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .await?;
    db.execute(
        &statement,
        &[
            &session.id,
            &session.user_id,
            &session.device_label,
            &session.ip,
            &session.created_at,
            &session.last_active_at,
            &session.expires_at,
            &session.revoked_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn by_id(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<SessionRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
        ))
        .await?;
    db.query_opt(&statement, &[&id])
        .await?
        .map(|row| rows::session(&row))
        .transpose()
}

pub(crate) async fn live(
    db: &impl GenericClient,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC"
        ))
        .await?;
    rows::all(
        db.query(&statement, &[&user_id, &now]).await?,
        rows::session,
    )
}

/// Revokes the user's live sessions (but `sweep.except`) and returns their ids.
pub(crate) async fn sweep(
    db: &impl GenericClient,
    user_id: Uuid,
    sweep: SessionSweep,
) -> Result<Vec<Uuid>, DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE sessions SET revoked_at = $2 \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             AND id IS DISTINCT FROM $3 RETURNING id",
        )
        .await?;
    let revoked = db
        .query(&statement, &[&user_id, &sweep.at, &sweep.except])
        .await?;
    Ok(revoked
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// The latest stamp of each id, in id order: flushes that lock rows in one order cannot
/// deadlock each other, on one replica or across several.
pub(crate) fn latest_by_id(stamps: &[ActivityStamp]) -> Vec<&ActivityStamp> {
    let mut latest: std::collections::BTreeMap<Uuid, &ActivityStamp> = Default::default();
    for stamp in stamps {
        let entry = latest.entry(stamp.id).or_insert(stamp);
        if stamp.at > entry.at {
            *entry = stamp;
        }
    }
    latest.into_values().collect()
}

pub(crate) async fn touch(
    db: &impl GenericClient,
    stamps: &[ActivityStamp],
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE sessions SET last_active_at = greatest(last_active_at, $1) WHERE id = $2",
        )
        .await?;
    for stamp in latest_by_id(stamps) {
        db.execute(&statement, &[&stamp.at, &stamp.id]).await?;
    }
    Ok(())
}

/// Marks one row of `table` (sessions or tokens) revoked at `at`. `None` when there is no such
/// row, `Some(false)` when it was revoked already.
pub(crate) async fn revoke_row(
    db: &impl GenericClient,
    table: &'static str,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<bool>, DbError> {
    let revoke = db
        .prepare_cached(&format!(
            "UPDATE {table} SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id"
        ))
        .await?;
    if db.query_opt(&revoke, &[&id, &at]).await?.is_some() {
        return Ok(Some(true));
    }
    let exists = db
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = $1"))
        .await?;
    Ok(db.query_opt(&exists, &[&id]).await?.map(|_| false))
}
