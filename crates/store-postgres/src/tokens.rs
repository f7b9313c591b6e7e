//! Personal access tokens' SQL.

use crate::conditions::Conditions;
use crate::rows::{self, DbError, token_columns};
use crate::sessions::latest_by_id;
use chrono::{DateTime, Utc};
use da_domain::store::{ActivityStamp, TokenFilter, TokenPage, TokenRecord};
use da_types::TokenStatus;
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub(crate) async fn insert(db: &impl GenericClient, token: &TokenRecord) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO tokens ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            token_columns("tokens").replace("tokens.", "")
        ))
        .await?;
    db.execute(
        &statement,
        &[
            &token.id,
            &token.user_id,
            &token.name,
            &token.prefix,
            &token.token_hash,
            &token.role.map(|r| r.as_str()),
            &token.created_at,
            &token.expires_at,
            &token.last_used_at,
            &token.last_used_ip,
            &token.revoked_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn by_hash(
    db: &impl GenericClient,
    hash: &str,
) -> Result<Option<TokenRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {} FROM tokens t WHERE t.token_hash = $1",
            token_columns("t")
        ))
        .await?;
    db.query_opt(&statement, &[&hash])
        .await?
        .map(|row| rows::token(&row))
        .transpose()
}

pub(crate) async fn by_id(
    db: &impl GenericClient,
    id: Uuid,
) -> Result<Option<TokenRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {} FROM tokens t WHERE t.id = $1",
            token_columns("t")
        ))
        .await?;
    db.query_opt(&statement, &[&id])
        .await?
        .map(|row| rows::token(&row))
        .transpose()
}

pub(crate) async fn of_user(
    db: &impl GenericClient,
    user_id: Uuid,
) -> Result<Vec<TokenRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {} FROM tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id DESC",
            token_columns("t")
        ))
        .await?;
    rows::all(db.query(&statement, &[&user_id]).await?, rows::token)
}

pub(crate) async fn list(
    db: &impl GenericClient,
    filter: &TokenFilter,
) -> Result<TokenPage, DbError> {
    let mut conditions = Conditions::default();
    if let Some(user_id) = filter.user_id {
        conditions.add("t.user_id = ?", vec![Box::new(user_id)]);
    }
    if let Some(needle) = &filter.owner_contains {
        conditions.add("strpos(u.email, ?) > 0", vec![Box::new(needle.clone())]);
    }
    match filter.status {
        None => {}
        Some(TokenStatus::Revoked) => conditions.add("t.revoked_at IS NOT NULL", vec![]),
        Some(TokenStatus::Expired) => conditions.add(
            "t.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at <= ?",
            vec![Box::new(filter.now)],
        ),
        Some(TokenStatus::Active) => conditions.add(
            "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)",
            vec![Box::new(filter.now)],
        ),
    }
    let count = db
        .prepare_cached(&format!(
            "SELECT count(*) FROM tokens t LEFT JOIN users u ON u.id = t.user_id {}",
            conditions.sql()
        ))
        .await?;
    let total: i64 = db
        .query_one(&count, &conditions.params())
        .await?
        .try_get(0)?;
    let select = db
        // Not cached: each page would stay prepared on the connection for good.
        .prepare(&format!(
            "SELECT {}, u.email FROM tokens t LEFT JOIN users u ON u.id = t.user_id \
             {} ORDER BY t.created_at DESC, t.id DESC LIMIT {} OFFSET {}",
            token_columns("t"),
            conditions.sql(),
            filter.limit,
            filter.offset
        ))
        .await?;
    let tokens = db
        .query(&select, &conditions.params())
        .await?
        .iter()
        .map(|row| Ok((rows::token(row)?, row.try_get::<_, Option<String>>(11)?)))
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok((tokens, total.max(0) as u64))
}

/// Revokes every live token of the user; returns their ids.
pub(crate) async fn revoke_all_of(
    db: &impl GenericClient,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
             RETURNING id",
        )
        .await?;
    Ok(db
        .query(&statement, &[&user_id, &at])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?)
}

pub(crate) async fn touch(
    db: &impl GenericClient,
    stamps: &[ActivityStamp],
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "UPDATE tokens SET last_used_at = $1, last_used_ip = $2 \
             WHERE id = $3 AND (last_used_at IS NULL OR last_used_at <= $1)",
        )
        .await?;
    for stamp in latest_by_id(stamps) {
        db.execute(&statement, &[&stamp.at, &stamp.ip, &stamp.id])
            .await?;
    }
    Ok(())
}
