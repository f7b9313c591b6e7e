//! Leaving the current page: a full load of another one, and the way to sign-in and back.
//! (A leaf module: the error type uses it, and everything uses the error type.)

use leptos::prelude::*;

/// A full page load, so the next page is rendered on the server with the current cookie.
pub fn go_to(path: &str) {
    if let Err(err) = window().location().assign(path) {
        leptos::logging::error!("navigation to {path} failed: {err:?}");
    }
}

/// The sign-in page, coming back here afterwards (`/login?next=<this page>`). Used when the
/// session turned out to be revoked or expired.
#[cfg(feature = "hydrate")]
pub fn to_login_from_here() {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    if path == "/login" {
        return;
    }
    let here = format!("{path}{}", location.search().unwrap_or_default());
    if let Err(err) = location.replace(&da_types::redirect::login_url(&here)) {
        leptos::logging::error!("cannot go to the sign-in page: {err:?}");
    }
}
