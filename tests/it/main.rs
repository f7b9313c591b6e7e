//! One integration-test binary (one link): each module exercises the real server over HTTP.

mod auth;
mod bad_input;
mod health;
mod pages;
mod startup;
