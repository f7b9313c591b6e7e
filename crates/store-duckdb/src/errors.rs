//! Classifying DuckDB's errors into [`StoreError`].
//!
//! duckdb-rs 1.20000.1 reports a failed statement as `DuckDBFailure` with the C API's *state*
//! only (always `DuckDBError`); the error *type* (`duckdb_error_type`) is not exposed for
//! statements (checked in its `error.rs` / `raw_statement.rs`), and this workspace forbids the
//! `unsafe` that calling the C API directly would take. What DuckDB does guarantee is the
//! message's first words: its exception type, as `ExceptionTypeToString` writes it
//! ("Constraint Error: …"). So the type is read from that prefix, matched exactly, never from
//! the free text after it.

use da_domain::StoreError;

/// DuckDB's exception type of a failure message, e.g. `Constraint` for
/// `Constraint Error: Duplicate key …`.
fn exception_type(message: &str) -> Option<&str> {
    let (kind, _) = message.split_once(" Error: ")?;
    (!kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')).then_some(kind)
}

/// Maps a driver error into the backend-neutral [`StoreError`]; the text stays a cause for the
/// log.
pub fn store_error(err: duckdb::Error) -> StoreError {
    let message = err.to_string();
    match &err {
        duckdb::Error::DuckDBFailure(..) => match exception_type(&message) {
            // A unique key taken, or a write-write conflict between transactions: the request
            // lost a race and may be retried.
            Some("Constraint" | "TransactionContext" | "Transaction") => {
                StoreError::Conflict(message)
            }
            Some("IO" | "Connection" | "Interrupt" | "Out of Memory") => {
                StoreError::Unavailable(message)
            }
            _ => StoreError::Other(message),
        },
        _ => StoreError::Other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_is_read_from_the_prefix_only() {
        assert_eq!(
            exception_type("Constraint Error: Duplicate key \"id: 1\""),
            Some("Constraint")
        );
        assert_eq!(
            exception_type("TransactionContext Error: Conflict on update!"),
            Some("TransactionContext")
        );
        assert_eq!(
            exception_type("Out of Memory Error: x"),
            Some("Out of Memory")
        );
        assert_eq!(
            exception_type("Binder Error: column \"Constraint Error: \" not found"),
            Some("Binder")
        );
        assert_eq!(exception_type("no type here"), None);
    }

    #[test]
    fn real_driver_errors_are_classified() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
            .unwrap();
        let duplicate = conn.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        assert!(matches!(store_error(duplicate), StoreError::Conflict(_)));
        let syntax = conn.execute("SELEC 1", []).unwrap_err();
        assert!(matches!(store_error(syntax), StoreError::Other(_)));
    }
}
