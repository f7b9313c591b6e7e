//! One-time links' SQL (at most one pending link per user and kind, the primary key), and
//! single-use keys.

use crate::rows::{self, DbError, LINK_COLUMNS};
use chrono::{DateTime, Utc};
use da_domain::store::{LinkKind, OneTimeToken};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

/// Replaces the user's pending link of this kind.
pub(crate) async fn replace(db: &impl GenericClient, link: &OneTimeToken) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO one_time_tokens ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, kind) DO UPDATE SET token_hash = excluded.token_hash, \
             created_at = excluded.created_at, expires_at = excluded.expires_at"
        ))
        .await?;
    db.execute(
        &statement,
        &[
            &link.user_id,
            &link.kind.as_str(),
            &link.token_hash,
            &link.created_at,
            &link.expires_at,
        ],
    )
    .await?;
    Ok(())
}

/// Whether a pending link of this kind was made at or after `since`.
pub(crate) async fn made_since(
    db: &impl GenericClient,
    user_id: Uuid,
    kind: LinkKind,
    since: DateTime<Utc>,
) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached(
            "SELECT 1 FROM one_time_tokens WHERE user_id = $1 AND kind = $2 AND created_at >= $3",
        )
        .await?;
    Ok(db
        .query_opt(&statement, &[&user_id, &kind.as_str(), &since])
        .await?
        .is_some())
}

/// Deletes the link if it is still pending with this hash and unexpired at `at`; whether it
/// was. One statement: of two racing redemptions, the second finds the row gone.
pub(crate) async fn consume(
    db: &impl GenericClient,
    user_id: Uuid,
    kind: LinkKind,
    token_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached(
            "DELETE FROM one_time_tokens \
             WHERE user_id = $1 AND kind = $2 AND token_hash = $3 AND expires_at > $4",
        )
        .await?;
    Ok(db
        .execute(&statement, &[&user_id, &kind.as_str(), &token_hash, &at])
        .await?
        > 0)
}

pub(crate) async fn delete_all(db: &impl GenericClient, user_id: Uuid) -> Result<(), DbError> {
    let statement = db
        .prepare_cached("DELETE FROM one_time_tokens WHERE user_id = $1")
        .await?;
    db.execute(&statement, &[&user_id]).await?;
    Ok(())
}

pub(crate) async fn get(
    db: &impl GenericClient,
    user_id: Uuid,
    kind: LinkKind,
) -> Result<Option<OneTimeToken>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {LINK_COLUMNS} FROM one_time_tokens WHERE user_id = $1 AND kind = $2"
        ))
        .await?;
    db.query_opt(&statement, &[&user_id, &kind.as_str()])
        .await?
        .map(|row| rows::link(&row))
        .transpose()
}

/// Records `key` as used until `expires_at`, sweeping keys expired by `now`; whether it was
/// free. The primary key decides between racing claims: the second waits for the first to
/// commit, then inserts nothing.
pub(crate) async fn claim_single_use(
    db: &impl GenericClient,
    key: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let sweep = db
        .prepare_cached("DELETE FROM single_use WHERE expires_at <= $1 AND key <> $2")
        .await?;
    db.execute(&sweep, &[&now, &key]).await?;
    let claim = db
        .prepare_cached(
            "INSERT INTO single_use (key, expires_at) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE single_use.expires_at <= $3",
        )
        .await?;
    Ok(db.execute(&claim, &[&key, &expires_at, &now]).await? > 0)
}

/// The secret stored under `name`, storing `candidate` first when there is none; of racing
/// first calls, the primary key lets one insert and all read the same row.
pub(crate) async fn shared_secret(
    db: &impl GenericClient,
    name: &str,
    candidate: &[u8],
) -> Result<Vec<u8>, DbError> {
    let insert = db
        .prepare_cached(
            "INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, now()) \
             ON CONFLICT (name) DO NOTHING",
        )
        .await?;
    db.execute(&insert, &[&name, &candidate]).await?;
    let select = db
        .prepare_cached("SELECT value FROM secrets WHERE name = $1")
        .await?;
    Ok(db.query_one(&select, &[&name]).await?.try_get(0)?)
}
