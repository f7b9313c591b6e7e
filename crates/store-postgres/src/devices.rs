//! CLI sign-in's SQL: refresh tokens (one family per session) and device requests.

use crate::rows::{BadValue, DbError};
use chrono::{DateTime, Duration, Utc};
use da_domain::store::{
    DeviceDecision, DeviceGrantRecord, DevicePoll, RefreshRecord, poll_outcome,
};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

pub(crate) async fn insert_refresh(
    db: &impl GenericClient,
    token_hash: &str,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)",
        )
        .await?;
    db.execute(&statement, &[&token_hash, &session_id, &at])
        .await?;
    Ok(())
}

/// The token, locked for the rest of the transaction with `for_update`.
pub(crate) async fn refresh_by_hash(
    db: &impl GenericClient,
    token_hash: &str,
    for_update: bool,
) -> Result<Option<RefreshRecord>, DbError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let statement = db
        .prepare_cached(&format!(
            "SELECT token_hash, session_id, issued_at, spent_at FROM refresh_tokens \
             WHERE token_hash = $1{lock}"
        ))
        .await?;
    let Some(row) = db.query_opt(&statement, &[&token_hash]).await? else {
        return Ok(None);
    };
    Ok(Some(RefreshRecord {
        token_hash: row.try_get(0)?,
        session_id: row.try_get(1)?,
        issued_at: row.try_get(2)?,
        spent_at: row.try_get(3)?,
    }))
}

/// Marks the token spent; `false` when it was spent already.
pub(crate) async fn spend(
    db: &impl GenericClient,
    token_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE refresh_tokens SET spent_at = $2 WHERE token_hash = $1 AND spent_at IS NULL",
        )
        .await?;
    Ok(db.execute(&statement, &[&token_hash, &at]).await? > 0)
}

/// Spends every unspent token of the session (its family).
pub(crate) async fn spend_family(
    db: &impl GenericClient,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE refresh_tokens SET spent_at = $2 WHERE session_id = $1 AND spent_at IS NULL",
        )
        .await?;
    db.execute(&statement, &[&session_id, &at]).await?;
    Ok(())
}

/// Moves a CLI session's idle expiry on and stamps its use.
pub(crate) async fn extend_session(
    db: &impl GenericClient,
    session_id: Uuid,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE sessions SET expires_at = $3, last_active_at = greatest(last_active_at, $2) \
             WHERE id = $1",
        )
        .await?;
    db.execute(&statement, &[&session_id, &at, &expires_at])
        .await?;
    Ok(())
}

const GRANT_COLUMNS: &str = "device_hash, user_code_hash, client_name, ip, created_at, expires_at, \
                             interval_seconds, last_poll_at, decision, user_id, \
                             approved_by_session";

fn grant(row: &Row) -> Result<DeviceGrantRecord, DbError> {
    let user_id: Option<Uuid> = row.try_get(9)?;
    let session_id: Option<Uuid> = row.try_get(10)?;
    let decision = match (row.try_get::<_, &str>(8)?, user_id, session_id) {
        ("approved", Some(user_id), Some(session_id)) => DeviceDecision::Approved {
            user_id,
            session_id,
        },
        ("denied", _, _) => DeviceDecision::Denied,
        ("pending", _, _) => DeviceDecision::Pending,
        (other, _, _) => {
            return Err(BadValue::new("decision", format!("unknown decision {other}")).into());
        }
    };
    let interval: i32 = row.try_get(6)?;
    Ok(DeviceGrantRecord {
        device_hash: row.try_get(0)?,
        user_code_hash: row.try_get(1)?,
        client_name: row.try_get(2)?,
        ip: row.try_get(3)?,
        created_at: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        interval_seconds: u32::try_from(interval).unwrap_or(0),
        last_poll_at: row.try_get(7)?,
        decision,
    })
}

/// Inserts a request, sweeping those expired by its creation.
pub(crate) async fn insert_grant(
    db: &impl GenericClient,
    grant: &DeviceGrantRecord,
) -> Result<(), DbError> {
    let sweep = db
        .prepare_cached("DELETE FROM device_grants WHERE expires_at <= $1")
        .await?;
    db.execute(&sweep, &[&grant.created_at]).await?;
    let insert = db
        .prepare_cached(&format!(
            "INSERT INTO device_grants ({GRANT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', NULL, NULL)"
        ))
        .await?;
    let interval = i32::try_from(grant.interval_seconds).unwrap_or(i32::MAX);
    db.execute(
        &insert,
        &[
            &grant.device_hash,
            &grant.user_code_hash,
            &grant.client_name,
            &grant.ip,
            &grant.created_at,
            &grant.expires_at,
            &interval,
            &grant.last_poll_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn grant_by_user_code(
    db: &impl GenericClient,
    user_code_hash: &str,
) -> Result<Option<DeviceGrantRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM device_grants WHERE user_code_hash = $1"
        ))
        .await?;
    db.query_opt(&statement, &[&user_code_hash])
        .await?
        .map(|row| grant(&row))
        .transpose()
}

/// Approves or denies a pending, unexpired request; `false` when there is none.
pub(crate) async fn decide(
    db: &impl GenericClient,
    user_code_hash: &str,
    decision: DeviceDecision,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let (status, user, session) = match decision {
        DeviceDecision::Approved {
            user_id,
            session_id,
        } => ("approved", Some(user_id), Some(session_id)),
        DeviceDecision::Denied => ("denied", None, None),
        DeviceDecision::Pending => return Ok(false),
    };
    let statement = db
        .prepare_cached(
            "UPDATE device_grants SET decision = $2, user_id = $3, approved_by_session = $5 \
             WHERE user_code_hash = $1 AND decision = 'pending' AND expires_at > $4",
        )
        .await?;
    Ok(db
        .execute(
            &statement,
            &[&user_code_hash, &status, &user, &at, &session],
        )
        .await?
        > 0)
}

/// One poll (see [`DevicePoll`]); the row is locked while it is decided.
pub(crate) async fn poll(
    db: &impl GenericClient,
    device_hash: &str,
    at: DateTime<Utc>,
    grace_ms: i64,
) -> Result<DevicePoll, DbError> {
    let select = db
        .prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM device_grants WHERE device_hash = $1 FOR UPDATE"
        ))
        .await?;
    let Some(row) = db.query_opt(&select, &[&device_hash]).await? else {
        return Ok(DevicePoll::Unknown);
    };
    let outcome = poll_outcome(&grant(&row)?, at, Duration::milliseconds(grace_ms));
    match &outcome {
        DevicePoll::Pending | DevicePoll::SlowDown => {
            let slower = match outcome {
                DevicePoll::SlowDown => da_types::DEVICE_SLOW_DOWN_SECONDS as i32,
                _ => 0,
            };
            let update = db
                .prepare_cached(
                    "UPDATE device_grants SET last_poll_at = $2, \
                     interval_seconds = interval_seconds + $3 WHERE device_hash = $1",
                )
                .await?;
            db.execute(&update, &[&device_hash, &at, &slower]).await?;
        }
        _ => {
            let delete = db
                .prepare_cached("DELETE FROM device_grants WHERE device_hash = $1")
                .await?;
            db.execute(&delete, &[&device_hash]).await?;
        }
    }
    Ok(outcome)
}
