//! Conversions between DuckDB values and domain types.

use chrono::{DateTime, NaiveDateTime, Utc};
use da_domain::StoreError;
use uuid::Uuid;

pub fn ts(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub fn ts_opt(at: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    at.map(ts)
}

pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub fn parse_uuid(raw: &str) -> Result<Uuid, duckdb::Error> {
    Uuid::parse_str(raw).map_err(|e| {
        duckdb::Error::FromSqlConversionFailure(0, duckdb::types::Type::Text, Box::new(e))
    })
}

/// Maps a driver error into the backend-neutral [`StoreError`].
pub fn store_error(err: duckdb::Error) -> StoreError {
    let message = err.to_string();
    if message.contains("Constraint Error") || message.contains("Duplicate key") {
        StoreError::Conflict(message)
    } else if message.contains("Conflict on") || message.contains("TransactionContext Error") {
        // Concurrent updates of one row; the caller may retry.
        StoreError::Conflict(message)
    } else {
        StoreError::Other(message)
    }
}
