//! Classifying the driver's and the pool's errors into [`StoreError`], by SQLSTATE; and what
//! connecting can fail with.

use da_domain::StoreError;
use tokio_postgres::error::SqlState;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DA_DATABASE_URL is not a PostgreSQL URL this server understands: {0}")]
    Url(String),
    #[error("cannot read the CA bundle {path}: {message}")]
    Ca {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("cannot reach PostgreSQL: {0}")]
    Unreachable(String),
    #[error(
        "the database has schema version {found}, newer than this da-server supports \
         ({supported}): run a newer da-server"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("migration {version} ({name}) failed: {message}")]
    Migration {
        version: i64,
        name: &'static str,
        message: String,
    },
}

/// Maps a driver error into the backend-neutral [`StoreError`]; the text stays a cause for the
/// log.
pub fn store_error(err: tokio_postgres::Error) -> StoreError {
    let message = err.to_string();
    match err.code() {
        // A unique key taken, or a transaction that lost to a concurrent one: the request lost
        // a race and may be retried.
        Some(code)
            if *code == SqlState::UNIQUE_VIOLATION
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Conflict(detailed(&err, message))
        }
        Some(code) if is_unavailable(code) => StoreError::Unavailable(detailed(&err, message)),
        Some(_) => StoreError::Other(detailed(&err, message)),
        // No SQLSTATE: the connection itself failed (closed, reset, timed out).
        None => StoreError::Unavailable(message),
    }
}

/// The server's own message, which `Display` of a database error leaves out.
fn detailed(err: &tokio_postgres::Error, message: String) -> String {
    match err.as_db_error() {
        Some(db) => format!("{message}: {}", db.message()),
        None => message,
    }
}

/// Classes 08 (connection exception), 53 (insufficient resources), 57P (operator
/// intervention: shutdown, crash, cannot connect now).
fn is_unavailable(code: &SqlState) -> bool {
    let code = code.code();
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
}

/// Not getting a connection, for whatever reason (the database down, refusing connections, a
/// full pool past its wait), is the database being unavailable.
pub fn pool_error(err: deadpool_postgres::PoolError) -> StoreError {
    match err {
        deadpool_postgres::PoolError::Backend(err) => {
            StoreError::Unavailable(format!("cannot connect: {}", detailed_of(&err)))
        }
        other => StoreError::Unavailable(format!("database pool: {other}")),
    }
}

fn detailed_of(err: &tokio_postgres::Error) -> String {
    detailed(err, err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailability_is_read_from_the_class() {
        assert!(is_unavailable(&SqlState::CONNECTION_FAILURE));
        assert!(is_unavailable(&SqlState::ADMIN_SHUTDOWN));
        assert!(is_unavailable(&SqlState::CANNOT_CONNECT_NOW));
        assert!(is_unavailable(&SqlState::TOO_MANY_CONNECTIONS));
        assert!(!is_unavailable(&SqlState::UNIQUE_VIOLATION));
        assert!(!is_unavailable(&SqlState::SYNTAX_ERROR));
    }
}
