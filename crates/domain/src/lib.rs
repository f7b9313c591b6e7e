//! Business rules of da, in one place: users, sessions, tokens, audit, and who may do what.
//!
//! Every surface (REST handlers, Leptos server functions) calls [`Services`]; a method takes the
//! caller's [`Principal`] first, checks policy, validates, and writes the change together with
//! its audit row in one store transaction. No HTTP, no Leptos and no SQL live here: storage is
//! reached only through the [`Store`] trait.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod distribution;
pub mod error;
pub mod jwt;
pub mod links;
pub mod password;
pub mod passwords;
pub mod pat;
pub mod principal;
pub mod services;
pub mod sessions;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod usage;
pub mod users;

pub use error::Error;
pub use links::Mailer;
pub use principal::{AuthState, Credential, Principal};
pub use services::{ClientInfo, Services, ServicesConfig};
pub use store::{Store, StoreError};
pub use throttle::RateLimitConfig;
