//! The frame of every signed-in page: the top bar with navigation (admin links for admins
//! only), the 403 page for non-admins on admin pages, and small shared widgets.

use crate::api::{Logout, get_me};
use chrono::{DateTime, Utc};
use da_types::{MeResponse, Role};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;

/// A full page load, so the next page is rendered on the server with the current cookie.
pub fn go_to(path: &str) {
    if let Err(err) = window().location().assign(path) {
        leptos::logging::error!("navigation to {path} failed: {err:?}");
    }
}

/// `2026-11-22 17:04 UTC`, or a dash.
pub fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "—".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// Sets the HTTP status of the server-rendered response (no-op in the browser).
fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// A signed-in page: loads who is calling, shows the top bar, and renders `children` with the
/// caller's [`MeResponse`] in context. With `admin`, non-admins get the 403 page instead.
#[component]
pub fn Page(
    #[prop(into)] title: String,
    #[prop(optional)] admin: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    let children = StoredValue::new(children);
    view! {
        <Title text=title />
        <Suspense fallback=|| view! { <p class="muted page">"Loading…"</p> }>
            {move || me.get().map(|result| match result {
                Ok(me) if admin && me.role != Role::Admin => {
                    set_status(403);
                    view! { <TopBar me=me.clone() /> <Forbidden /> }.into_any()
                }
                Ok(me) => {
                    provide_context(me.clone());
                    view! {
                        <TopBar me=me />
                        <main class="page">{children.read_value()()}</main>
                    }.into_any()
                }
                Err(err) => view! {
                    <main class="page"><p class="alert" role="alert">{err.detail}</p></main>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The caller, inside a [`Page`].
pub fn use_me() -> MeResponse {
    expect_context::<MeResponse>()
}

#[component]
pub fn TopBar(me: MeResponse) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let submit_logout = move |ev: SubmitEvent| {
        ev.prevent_default();
        logout.dispatch(Logout {});
    };
    Effect::new(move |_| {
        if logout.value().get().is_some() {
            go_to("/login");
        }
    });
    let is_admin = me.role == Role::Admin;
    view! {
        <header class="topbar">
            <nav class="nav">
                <a class="brand" href="/">"da"</a>
                <a href="/tokens" data-test="nav-tokens">"Tokens"</a>
                <a href="/profile">"Profile"</a>
                <Show when=move || is_admin>
                    <a href="/admin/users" data-test="nav-admin-users">"Users"</a>
                    <a href="/admin/tokens" data-test="nav-admin-tokens">"All tokens"</a>
                    <a href="/admin/audit" data-test="nav-admin-audit">"Audit log"</a>
                </Show>
            </nav>
            <div class="nav">
                <span class="muted" data-test="nav-email">{me.email.clone()}</span>
                <form method="post" action="/logout" on:submit=submit_logout>
                    <button type="submit" class="link" data-test="logout" disabled=move || logout.pending().get()>
                        "Sign out"
                    </button>
                </form>
            </div>
        </header>
    }
}

/// What a signed-in non-admin sees on an admin page (served with status 403).
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <Title text="Forbidden" />
        <main class="page">
            <section class="card" data-test="forbidden">
                <h1>"Admins only"</h1>
                <p class="muted">"This page is for administrators. Ask one if you need access."</p>
                <p><a href="/">"Back to the dashboard"</a></p>
            </section>
        </main>
    }
}

/// A read-only field with a button that copies its value. The clipboard API exists only in
/// secure contexts (https or localhost); elsewhere the text is selected for Ctrl+C instead.
#[component]
pub fn CopyField(#[prop(into)] value: String, #[prop(into)] test: String) -> impl IntoView {
    let (label, set_label) = signal("Copy");
    let field = NodeRef::<leptos::html::Input>::new();
    let text = value.clone();
    let copy = move |_| {
        if window().is_secure_context() {
            let _ = window().navigator().clipboard().write_text(&text);
            set_label.set("Copied");
        } else if let Some(input) = field.get() {
            input.select();
            set_label.set("Selected: press Ctrl+C");
        }
    };
    view! {
        <div class="copy-field">
            <input type="text" readonly prop:value=value node_ref=field data-test=test />
            <button type="button" class="secondary" on:click=copy>{move || label.get()}</button>
        </div>
    }
}
