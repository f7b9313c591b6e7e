//! One integration-test binary (one link): each module exercises the real server over HTTP.

mod architecture;
mod audit;
mod auth;
mod bad_input;
mod brakes;
mod cache_races;
mod cli;
mod csrf;
mod datasets;
mod groups;
mod health;
mod host_check;
mod hygiene;
mod install;
mod lost_updates;
mod pages;
mod passwords;
mod rate_limits;
mod replicas;
mod sessions;
mod sso;
mod startup;
mod tokens;
mod users;
