//! One integration-test binary (one link): each module exercises the real server over HTTP.

mod audit;
mod auth;
mod bad_input;
mod cli;
mod health;
mod install;
mod pages;
mod passwords;
mod rate_limits;
mod sessions;
mod startup;
mod tokens;
mod users;
