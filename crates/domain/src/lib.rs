//! Business rules of da, in one place: users, sessions, tokens, audit, and who may do what.
//!
//! Every surface (REST handlers, Leptos server functions) calls [`Services`]; a method takes the
//! caller first — a [`Principal`], or a capability from [`policy`] where a privilege is needed —
//! validates, and writes the change together with its audit row in one store transaction. No
//! HTTP, no Leptos and no SQL live here: storage is reached only through the [`Store`] trait.
//!
//! Modules import each other without cycles (a test in `tests/` checks it): the leaves are
//! `store`, `error`, `principal`, `params`, `policy`, `cache`; `services` holds the shared
//! state; the feature modules (`auth`, `users`, `sessions`, `tokens`, `password_changes`,
//! `links`, `audit_log`, `distribution`, `groups`, `oidc`, `cli_sign_in`, `leaks`) each add methods
//! to [`Services`].

pub mod audit;
pub mod audit_chain;
pub mod audit_log;
pub mod auth;
pub mod brakes;
pub mod cache;
pub mod checksum;
pub mod cli_sign_in;
pub mod dashboard;
pub mod data;
pub mod datasets;
pub mod distribution;
pub mod engine;
pub mod error;
pub mod groups;
pub mod jwt;
pub mod leaks;
pub mod links;
pub mod mail;
pub mod oidc;
pub mod params;
pub mod password_changes;
pub mod password_hash;
pub mod pat;
pub mod policy;
pub mod principal;
pub mod query_check;
pub mod services;
pub mod sessions;
pub mod store;
pub mod tokens;
pub mod usage;
pub mod users;

pub use brakes::RateLimitConfig;
pub use error::Error;
pub use mail::Mailer;
pub use policy::{Admin, Interactive, require_admin, require_session};
pub use principal::{AuthState, Credential, Principal};
pub use services::{ClientInfo, Services, ServicesConfig};
pub use store::{Store, StoreError};
