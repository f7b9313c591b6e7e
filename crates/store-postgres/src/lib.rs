//! The [`Store`](da_domain::Store) on PostgreSQL, for deployments with several stateless
//! replicas on one database.
//!
//! Laid out as the DuckDB store is: SQL lives only in this crate, one module per concern
//! (`users`, `sessions`, `tokens`, `links`, `groups`, `datasets`, `audit`); `pool` owns the
//! connections and the one "write + audit row in one transaction" helper; `store` maps the
//! trait onto them; `rows` and `errors` convert values and driver errors; `migrate` brings the
//! schema up to date under an advisory lock, so replicas starting together migrate once.

mod audit;
mod conditions;
mod datasets;
mod devices;
mod errors;
mod groups;
mod links;
mod migrate;
mod notify;
mod pool;
mod rows;
mod sessions;
mod store;
mod tls;
mod tokens;
mod users;

pub use errors::ConnectError;
pub use migrate::{MIGRATIONS, Migration, latest_version};
pub use pool::{LISTENER_NAME, PgOptions, PgStore};
