//! Your own account: `/profile` (name, password, sessions), and the public pages that set a
//! password from a link: `/setup` (invites) and `/reset-password` (also "forgot password").

use crate::api::{
    ChangePassword, RedeemLink, RequestReset, RevokeMySession, RevokeOtherSessions, my_groups,
    my_sessions,
};
use crate::layout::{
    Feedback, FeedbackBar, Page, RoleInForce, count, go_to, input_value, use_me, when,
};
use da_types::Secret;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <Page title="Profile">
            <Profile />
        </Page>
    }
}

#[component]
fn Profile() -> impl IntoView {
    let me = use_me();
    // Shared: a password change signs the other sessions out, so the list reloads after one.
    let change = ServerAction::<ChangePassword>::new();
    let groups = Resource::new(|| (), |_| my_groups());
    view! {
        <h1>"Your profile"</h1>
        <section class="card">
            <dl class="facts">
                <dt>"Name"</dt><dd data-test="profile-name">{me.name.clone()}</dd>
                <dt>"Email"</dt><dd data-test="profile-email">{me.email.clone()}</dd>
                <dt>"Role"</dt><dd><RoleInForce own=me.role effective=me.effective_role test="profile-role" /></dd>
                <dt>"Groups"</dt>
                <dd data-test="profile-groups">
                    <Suspense fallback=|| view! { <span class="muted">"…"</span> }>
                        {move || groups.get().map(|result| match result {
                            Ok(list) if list.is_empty() => view! { <span class="muted">"none"</span> }.into_any(),
                            Ok(list) => view! {
                                <ul class="plain">{list.into_iter().map(|g| view! {
                                    <li data-test="profile-group">
                                        {g.name}
                                        {g.role.map(|r| view! { " " <span class="badge">{r.as_str()}</span> })}
                                        {(g.source == da_types::MembershipSource::Sso).then(|| view! {
                                            " " <span class="muted small">"(from single sign-on)"</span>
                                        })}
                                    </li>
                                }).collect_view()}</ul>
                            }.into_any(),
                            Err(err) => view! { <span class="alert">{err.detail}</span> }.into_any(),
                        })}
                    </Suspense>
                </dd>
            </dl>
            {me.sso.then(|| view! {
                <p class="muted" data-test="profile-sso">
                    "You sign in through single sign-on: your identity provider checks who you are,                      and your groups there decide your groups here."
                </p>
            })}
        </section>
        <ChangePasswordForm change=change />
        <Sessions password_changes=change />
    }
}

#[component]
fn ChangePasswordForm(change: ServerAction<ChangePassword>) -> impl IntoView {
    let current = NodeRef::<leptos::html::Input>::new();
    let new = NodeRef::<leptos::html::Input>::new();
    let repeat = NodeRef::<leptos::html::Input>::new();
    let (message, set_message) = signal(None::<Result<String, String>>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let new_password = input_value(new);
        if new_password != input_value(repeat) {
            set_message.set(Some(Err("The new passwords do not match".into())));
            return;
        }
        set_message.set(None);
        change.dispatch(ChangePassword {
            current_password: Secret::new(input_value(current)),
            new_password: Secret::new(new_password),
        });
    };
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            for node in [current, new, repeat] {
                if let Some(el) = node.get() {
                    el.set_value("");
                }
            }
            set_message.set(Some(Ok(
                "Password changed. Your other sessions were signed out.".into(),
            )));
        }
        Some(Err(err)) => set_message.set(Some(Err(err.detail))),
        None => {}
    });
    view! {
        <form class="card stack" on:submit=submit data-test="change-password">
            <h2>"Change password"</h2>
            <label for="current-password">"Current password"</label>
            <input id="current-password" type="password" autocomplete="current-password" required node_ref=current />
            <label for="new-password">"New password"</label>
            <input id="new-password" type="password" autocomplete="new-password" required minlength="8" node_ref=new />
            <label for="repeat-password">"Repeat the new password"</label>
            <input id="repeat-password" type="password" autocomplete="new-password" required node_ref=repeat />
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="ok" role="status" data-test="password-changed">{text}</p> }.into_any(),
                Err(text) => view! { <p class="alert" role="alert" data-test="password-error">{text}</p> }.into_any(),
            })}
            <button type="submit" class="primary" disabled=move || change.pending().get()>"Change password"</button>
        </form>
    }
}

#[component]
fn Sessions(password_changes: ServerAction<ChangePassword>) -> impl IntoView {
    let revoke = ServerAction::<RevokeMySession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let sessions = Resource::new(
        move || {
            (
                revoke.version().get(),
                revoke_others.version().get(),
                password_changes.version().get(),
            )
        },
        |_| my_sessions(),
    );
    let feedback = Feedback::new();
    let revoking = StoredValue::new(String::new());
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(())) => feedback.ok(format!("Signed out {}.", revoking.get_value())),
        Some(Err(err)) => feedback.error(err.detail),
        None => {}
    });
    Effect::new(move |_| match revoke_others.value().get() {
        Some(Ok(0)) => feedback.ok("There were no other sessions to sign out."),
        Some(Ok(n)) => feedback.ok(format!(
            "Signed out {}.",
            count(n as u64, "other session", "other sessions")
        )),
        Some(Err(err)) => feedback.error(err.detail),
        None => {}
    });
    view! {
        <section class="card">
            <h2>"Your sessions"</h2>
            <FeedbackBar feedback=feedback />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(list) => view! {
                        <div class="table-wrap">
                        <table class="grid" data-test="sessions-table">
                            <thead><tr><th>"Device"</th><th>"IP"</th><th>"Last active"</th><th>"Signed in"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let id = s.id.to_string();
                                    let label = s.device_label.clone();
                                    let current = s.current == Some(true);
                                    view! {
                                        <tr data-test="session-row">
                                            <td>{s.device_label.clone()}
                                                {current.then(|| view! { " " <span class="badge" data-test="this-session">"this session"</span> })}
                                            </td>
                                            <td>{s.ip.clone().unwrap_or_default()}</td>
                                            <td>{when(Some(s.last_active_at))}</td>
                                            <td>{when(Some(s.created_at))}</td>
                                            <td>{(!current).then(|| view! {
                                                <button type="button" class="link danger" data-test="revoke-session"
                                                    on:click=move |_| {
                                                        feedback.clear();
                                                        revoking.set_value(label.clone());
                                                        revoke.dispatch(RevokeMySession { id: id.clone() });
                                                    }>
                                                    "Sign out"
                                                </button>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
                })}
            </Transition>
            <button type="button" class="secondary" data-test="revoke-others"
                on:click=move |_| { feedback.clear(); revoke_others.dispatch(RevokeOtherSessions {}); }>
                "Log out everywhere else"
            </button>
        </section>
    }
}

/// `/setup?email&token`: an invited user chooses a password (and name) and lands signed in.
#[component]
pub fn SetupPage() -> impl IntoView {
    view! { <LinkForm setup=true /> }
}

/// `/reset-password?email&token`: choose a new password; without a token, ask for a link.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let has_token = query.read_untracked().get("token").is_some();
    view! {
        <Show when=move || has_token fallback=|| view! { <ForgotPassword /> }>
            <LinkForm setup=false />
        </Show>
    }
}

#[component]
fn LinkForm(setup: bool) -> impl IntoView {
    let query = use_query_map();
    let email = query.read_untracked().get("email").unwrap_or_default();
    let token = query.read_untracked().get("token").unwrap_or_default();
    let redeem = ServerAction::<RedeemLink>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let repeat = NodeRef::<leptos::html::Input>::new();
    let (error, set_error) = signal(None::<String>);
    let shown_email = email.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let new_password = input_value(password);
        if new_password != input_value(repeat) {
            set_error.set(Some("The passwords do not match".into()));
            return;
        }
        set_error.set(None);
        redeem.dispatch(RedeemLink {
            setup,
            email: email.clone(),
            token: Secret::new(token.clone()),
            password: Secret::new(new_password),
            name: setup
                .then(|| input_value(name))
                .filter(|n| !n.trim().is_empty()),
        });
    };
    Effect::new(move |_| match redeem.value().get() {
        Some(Ok(())) => go_to("/"),
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });
    let (title, heading, button) = if setup {
        (
            "Set up your account",
            "Welcome to da",
            "Set password and sign in",
        )
    } else {
        (
            "Reset password",
            "Choose a new password",
            "Save and sign in",
        )
    };
    view! {
        <Title text=title />
        <main class="auth-page">
            <form class="card auth-card" on:submit=submit data-test="link-form">
                <h1 class="brand">"da"</h1>
                <p><strong>{heading}</strong></p>
                <p class="muted" data-test="link-email">{shown_email}</p>
                <Show when=move || setup>
                    <label for="name">"Your name"</label>
                    <input id="name" type="text" autocomplete="name" placeholder="optional" node_ref=name />
                </Show>
                <label for="password">"New password"</label>
                <input id="password" type="password" autocomplete="new-password" required minlength="8" node_ref=password />
                <label for="repeat">"Repeat it"</label>
                <input id="repeat" type="password" autocomplete="new-password" required node_ref=repeat />
                <Show when=move || error.get().is_some()>
                    <p class="alert" role="alert" data-test="link-error">{move || error.get().unwrap_or_default()}</p>
                </Show>
                <button type="submit" class="primary" disabled=move || redeem.pending().get()>{button}</button>
            </form>
        </main>
    }
}

#[component]
fn ForgotPassword() -> impl IntoView {
    let request = ServerAction::<RequestReset>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        request.dispatch(RequestReset {
            email: input_value(email),
        });
    };
    view! {
        <Title text="Forgot password" />
        <main class="auth-page">
            <form class="card auth-card" on:submit=submit>
                <h1 class="brand">"da"</h1>
                <p class="muted">"Enter your email and we will send you a link to choose a new password."</p>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="username" required node_ref=email />
                {move || request.value().get().map(|result| match result {
                    Ok(message) => view! { <p class="ok" role="status">{message}</p> }.into_any(),
                    Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
                })}
                <button type="submit" class="primary" disabled=move || request.pending().get()>"Send link"</button>
                <p><a href="/login">"Back to sign in"</a></p>
            </form>
        </main>
    }
}
