//! The pages: sign-in, the dashboard, and "not found".

use crate::api::Login;
use crate::layout::{Page, go_to, use_me};
use da_types::Secret;
use da_types::detail::login_error_message;
use da_types::safe_next;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login`: email and password. Works as a plain form post before hydration (the server
/// answers `POST /login` itself); once hydrated, it signs in through a server function and
/// shows errors without a reload.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = Memo::new(move |_| safe_next(query.read().get("next").as_deref()));
    let from_redirect = query
        .read_untracked()
        .get("error")
        .and_then(|code| login_error_message(&code))
        .map(str::to_owned);
    let (error, set_error) = signal(from_redirect);
    let login = ServerAction::<Login>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let value = |input: NodeRef<leptos::html::Input>| {
            input.get().map(|el| el.value()).unwrap_or_default()
        };
        set_error.set(None);
        login.dispatch(Login {
            email: value(email),
            password: Secret::new(value(password)),
        });
    };
    Effect::new(move |_| match login.value().get() {
        Some(Ok(())) => go_to(&next.get_untracked()),
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });

    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <form class="card auth-card" method="post" action="/login" on:submit=submit>
                <h1 class="brand">"da"</h1>
                <p class="muted">"Sign in to the data-analyst platform."</p>
                <Show when=move || error.get().is_some()>
                    <p class="alert" role="alert" data-test="login-error">
                        {move || error.get().unwrap_or_default()}
                    </p>
                </Show>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required node_ref=email />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required node_ref=password />
                <input type="hidden" name="next" prop:value=move || next.get() />
                <button type="submit" class="primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
                <p class="muted"><a href="/reset-password" data-test="forgot-password">"Forgot your password?"</a></p>
            </form>
        </main>
    }
}

/// `/`: who you are.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Page title="Dashboard">
            <Dashboard />
        </Page>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let me = use_me();
    view! {
        <section class="card">
            <h1>"Welcome, " {me.name.clone()}</h1>
            <dl class="facts">
                <dt>"Email"</dt>
                <dd data-test="me-email">{me.email.clone()}</dd>
                <dt>"Role"</dt>
                <dd><span class="badge" data-test="me-role">{me.role.to_string()}</span></dd>
            </dl>
        </section>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <Title text="Not found" />
        <main class="page">
            <section class="card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <p><a href="/">"Back to the dashboard"</a></p>
            </section>
        </main>
    }
}
