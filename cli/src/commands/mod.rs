//! One module per command group; each function is one command: resolve, call, print.

pub mod admin;
pub mod auth;
pub mod config;
pub mod datasets;
pub mod groups;
pub mod scan;
