//! The da-server host: wires the store into the services, and serves the REST API, the SPA
//! (server-rendered Leptos plus its wasm bundle) and, later, the CLI downloads.
//!
//! Handlers here only translate HTTP to service calls; rules live in `da_domain`.

pub mod bundle;
pub mod config;
pub mod extract;
pub mod http_error;
pub mod mail;
pub mod middleware;
pub mod oidc_http;
pub mod routes;
pub mod startup;
pub mod state;
pub mod web;
