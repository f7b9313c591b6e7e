//! The da web UI: a Leptos SPA rendered on the server and hydrated in the browser.
//!
//! Pages and components live here; data comes from server functions in [`api`], which are thin
//! calls into `da_domain::Services` (only under the `ssr` feature — the wasm build never sees the
//! domain, a store or axum).

// Deeply nested views have deep types; the wasm build's layout queries need the room.
#![recursion_limit = "256"]

pub mod account;
pub mod admin;
pub mod admin_datasets;
pub mod api;
pub mod audit_view;
pub mod data;
pub mod device;
pub mod error;
pub mod groups;
pub mod install;
pub mod layout;
pub mod navigation;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
pub mod tokens;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    server::set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <link rel="stylesheet" href=format!("/{}/da.css", options.site_pkg_dir) />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: mark the page so tests (and curious
    // people) can tell a live page from server-rendered HTML.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| if page.is_empty() { "da".to_owned() } else { format!("{page} · da") } />
        <Router>
            <Routes fallback=pages::NotFoundPage>
                // Pages that load data render completely on the server (`Async`): out-of-order streaming
                // would need JavaScript to swap the data in, and pages must work without it.
                <Route path=path!("/") view=pages::DashboardPage ssr=SsrMode::Async />
                <Route path=path!("/login") view=pages::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/profile") view=account::ProfilePage ssr=SsrMode::Async />
                <Route path=path!("/setup") view=account::SetupPage />
                <Route path=path!("/reset-password") view=account::ResetPasswordPage />
                <Route path=path!("/admin/users") view=admin::UsersPage ssr=SsrMode::Async />
                <Route path=path!("/admin/audit") view=admin::AuditPage ssr=SsrMode::Async />
                <Route path=path!("/admin/groups") view=groups::GroupsPage ssr=SsrMode::Async />
                <Route path=path!("/admin/datasets") view=admin_datasets::AdminDatasetsPage ssr=SsrMode::Async />
                <Route path=path!("/install") view=install::InstallPage ssr=SsrMode::Async />
                <Route path=path!("/device") view=device::DevicePage ssr=SsrMode::Async />
                <Route path=path!("/tokens") view=tokens::TokensPage ssr=SsrMode::Async />
                <Route path=path!("/datasets") view=data::DatasetsPage ssr=SsrMode::Async />
                <Route path=path!("/query") view=data::QueryPage ssr=SsrMode::Async />
                <Route path=path!("/admin/tokens") view=tokens::AdminTokensPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
