//! The [`Store`](da_domain::Store) on an embedded DuckDB file.
//!
//! SQL lives only in this crate, one module per concern (`users`, `sessions`, `tokens`,
//! `links`, `audit`, `devices`); `pool` owns the connections and the one "write + audit row in one
//! transaction" helper; `store` maps the trait onto them; `rows` and `errors` convert values
//! and driver errors; `migrate` brings a file's schema up to date.

mod audit;
mod conditions;
mod datasets;
mod devices;
mod errors;
mod groups;
mod links;
mod migrate;
mod pool;
mod rows;
mod sessions;
mod store;
mod tokens;
mod users;

pub use migrate::{MIGRATIONS, Migration, OpenError, latest_version};
pub use pool::DuckDbStore;
