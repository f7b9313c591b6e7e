//! The [`Store`](da_domain::Store) on an embedded DuckDB file.
//!
//! DuckDB allows one process per file and rejects concurrent updates of one row, so: every call
//! runs on the blocking pool; writes go through one writer connection behind a mutex (which
//! serialises them); reads take a long-lived cloned connection from a small pool. SQL lives only
//! in this crate.

mod convert;
mod migrate;
mod store;

pub use migrate::{MIGRATIONS, Migration, OpenError, latest_version};
pub use store::DuckDbStore;
