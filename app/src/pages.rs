//! The pages: sign-in, the dashboard, and "not found".

use crate::api::{Login, dashboard, sign_in_providers};
use crate::layout::{LocalTime, Page, RoleInForce, count, go_to, use_me};
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
    let providers = Resource::new(|| (), |_| sign_in_providers());
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
        Some(Err(err)) => {
            // A wrong password is not worth keeping; try again from an empty field.
            if let Some(el) = password.get() {
                el.set_value("");
                let _ = el.focus();
            }
            set_error.set(Some(err.detail));
        }
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
                <Suspense fallback=|| ()>
                    {move || providers.get().and_then(Result::ok).and_then(|p| p.oidc).map(|oidc| view! {
                        // A plain link: the browser leaves for the identity provider.
                        <a class="button primary sso" data-test="sso-login" rel="external"
                            href=move || da_types::redirect::sso_login_url(&oidc.login_path, &next.get())>
                            {format!("Sign in with {}", oidc.name)}
                        </a>
                        <p class="divider muted"><span>"or with a password"</span></p>
                    })}
                </Suspense>
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

/// `/`: who you are, your tokens and sessions at a glance, and for admins the system's.
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
    let figures = Resource::new(|| (), |_| dashboard());
    view! {
        <h1>"Welcome, " {me.name.clone()}</h1>
        <div class="tiles">
            <section class="card">
                <h2>"You"</h2>
                <dl class="facts">
                    <dt>"Email"</dt>
                    <dd data-test="me-email">{me.email.clone()}</dd>
                    <dt>"Role"</dt>
                    <dd><RoleInForce own=me.role effective=me.effective_role test="me-role" />
                        " " <span class="muted">{me.effective_role.description()}</span></dd>
                    <Suspense fallback=|| ()>
                        {move || figures.get().and_then(Result::ok).map(|d| view! {
                            <dt>"Last sign-in"</dt>
                            <dd data-test="dash-last-login">{match d.last_login_at {
                                Some(at) => view! { <LocalTime at=at /> }.into_any(),
                                None => "never".into_any(),
                            }}</dd>
                            <dt>"Sessions"</dt>
                            <dd><a href="/profile" data-test="dash-sessions">{count(d.live_sessions, "signed-in session", "signed-in sessions")}</a></dd>
                        })}
                    </Suspense>
                </dl>
            </section>
            <section class="card">
                <h2>"Access tokens"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || figures.get().map(|result| match result {
                        Ok(d) => view! {
                            <p><a href="/tokens" data-test="dash-tokens">{count(d.active_tokens, "active token", "active tokens")}</a></p>
                            {d.next_expiring_token.map(|t| view! {
                                <p class="muted" data-test="dash-next-expiry">"Next to expire: “" {t.name} "” on "
                                    <LocalTime at=t.expires_at /></p>
                            })}
                        }.into_any(),
                        Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
                    })}
                </Suspense>
                <p class="muted">"Scripting against da? "<a href="/install" data-test="dash-install">"Get the CLI"</a>"."</p>
            </section>
            <Suspense fallback=|| ()>
                {move || figures.get().and_then(Result::ok).and_then(|d| d.admin).map(|a| view! {
                    <section class="card" data-test="dash-admin">
                        <h2>"This server"</h2>
                        <dl class="facts">
                            <dt>"Users"</dt>
                            <dd><a href="/admin/users" data-test="dash-users">{count(a.users, "user", "users")}</a>
                                {(a.invited > 0).then(|| format!(" ({} invited, not signed up yet)", a.invited))}</dd>
                            <dt>"Active tokens"</dt>
                            <dd><a href="/admin/tokens">{a.active_tokens}</a></dd>
                            <dt>"Failed sign-ins, 24 h"</dt>
                            <dd><a href="/admin/audit?action=auth.login_failed" data-test="dash-failed">{a.failed_logins_24h}</a></dd>
                        </dl>
                    </section>
                })}
            </Suspense>
        </div>
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
