//! `/tokens` (your personal access tokens) and `/admin/tokens` (every token).

use crate::api::{
    AdminRevokeToken, CreateToken, RevokeToken, all_tokens, my_tokens, token_max_days,
};
use crate::layout::{CopyField, Page, use_me, when};
use da_types::{Role, TokenItem, TokenStatus};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

const PRESETS: [(&str, &str); 4] = [
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
];

fn status_badge(status: TokenStatus) -> impl IntoView {
    let class = match status {
        TokenStatus::Active => "badge",
        TokenStatus::Expired | TokenStatus::Revoked => "badge off",
    };
    view! { <span class=class data-test="token-status">{status.as_str()}</span> }
}

fn last_used(token: &TokenItem) -> String {
    match (&token.last_used_at, &token.last_used_ip) {
        (Some(at), Some(ip)) => format!("{} from {ip}", when(Some(*at))),
        (Some(at), None) => when(Some(*at)),
        _ => "never".into(),
    }
}

/// A revoke button that asks once more before it acts.
#[component]
fn RevokeButton(on_revoke: Callback<()>) -> impl IntoView {
    let (asking, set_asking) = signal(false);
    view! {
        <Show when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="link danger" data-test="revoke" on:click=move |_| set_asking.set(true)>
                    "Revoke"
                </button>
            }>
            <button type="button" class="link danger" data-test="confirm-revoke"
                on:click=move |_| { set_asking.set(false); on_revoke.run(()); }>
                "Really revoke?"
            </button>
            <button type="button" class="link" on:click=move |_| set_asking.set(false)>"Keep"</button>
        </Show>
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <Page title="Access tokens">
            <MyTokens />
        </Page>
    }
}

#[component]
fn MyTokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| my_tokens(),
    );
    let max_days = Resource::new(|| (), |_| token_max_days());
    let (error, set_error) = signal(None::<String>);
    Effect::new(move |_| {
        if let Some(Err(err)) = revoke.value().get() {
            set_error.set(Some(err.detail));
        }
    });

    view! {
        <h1>"Personal access tokens"</h1>
        <p class="muted">
            "Tokens let scripts and CI jobs call the API as you: "
            <code>"Authorization: Bearer da_pat_…"</code>
            ". Treat them like passwords."
        </p>
        <Suspense fallback=|| ()>
            {move || max_days.get().map(|max| view! {
                <CreateTokenForm create=create max_days=max.ok().flatten() />
            })}
        </Suspense>
        {move || create.value().get().map(|result| match result {
            Ok(created) => {
                let export = format!("export DA_TOKEN={}", created.token);
                view! {
                    <section class="card notice" data-test="new-token">
                        <p><strong>{format!("Token “{}” created.", created.item.name)}</strong>
                            " Copy it now: it is shown only this once."</p>
                        <CopyField value=created.token test="token-secret" />
                        <p class="muted">"For a shell or CI job:"</p>
                        <CopyField value=export test="token-export" />
                    </section>
                }.into_any()
            }
            Err(err) => view! { <p class="alert" role="alert" data-test="token-error">{err.detail}</p> }.into_any(),
        })}
        <Show when=move || error.get().is_some()>
            <p class="alert" role="alert">{move || error.get().unwrap_or_default()}</p>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || tokens.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! { <p class="muted" data-test="no-tokens">"No tokens yet."</p> }.into_any(),
                Ok(list) => view! {
                    <table class="grid" data-test="tokens-table">
                        <thead><tr>
                            <th>"Name"</th><th>"Prefix"</th><th>"Role"</th><th>"Created"</th>
                            <th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th></th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|token| {
                                let id = token.id.to_string();
                                let active = token.status == TokenStatus::Active;
                                view! {
                                    <tr data-test="token-row" data-name=token.name.clone()>
                                        <td>{token.name.clone()}</td>
                                        <td><code>{token.prefix.clone()}</code></td>
                                        <td>{token.role.map_or_else(|| "yours".to_owned(), |r| r.to_string())}</td>
                                        <td>{when(Some(token.created_at))}</td>
                                        <td>{token.expires_at.map_or_else(|| "never".to_owned(), |at| when(Some(at)))}</td>
                                        <td data-test="token-last-used">{last_used(&token)}</td>
                                        <td>{status_badge(token.status)}</td>
                                        <td>{active.then(|| {
                                            let id = id.clone();
                                            let on_revoke = Callback::new(move |()| { revoke.dispatch(RevokeToken { id: id.clone() }); });
                                            view! { <RevokeButton on_revoke=on_revoke /> }
                                        })}</td>
                                    </tr>
                                }.into_any()
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn CreateTokenForm(create: ServerAction<CreateToken>, max_days: Option<i64>) -> impl IntoView {
    let me = use_me();
    let name = NodeRef::<leptos::html::Input>::new();
    let custom_days = NodeRef::<leptos::html::Input>::new();
    let role = NodeRef::<leptos::html::Select>::new();
    let (expiry, set_expiry) = signal("90".to_owned());
    let allowed = move |days: i64| max_days.is_none_or(|max| days <= max);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let days = match expiry.get_untracked().as_str() {
            "never" => None,
            "custom" => Some(
                custom_days
                    .get()
                    .and_then(|el| el.value().trim().parse::<i64>().ok())
                    .unwrap_or(0),
            ),
            preset => preset.parse().ok(),
        };
        create.dispatch(CreateToken {
            name: name.get().map(|el| el.value()).unwrap_or_default(),
            days,
            role: role.get().map(|el| el.value()),
        });
    };
    let my_role = me.role;
    view! {
        <form class="card create-token" on:submit=submit data-test="create-token">
            <h2>"New token"</h2>
            <div class="row">
                <label>"Name"<input type="text" required maxlength="100" placeholder="e.g. nightly CI" node_ref=name data-test="token-name" /></label>
                <label>"Expires after"
                    <select data-test="token-expiry" on:change=move |ev| set_expiry.set(event_target_value(&ev))>
                        {PRESETS.into_iter().filter(|(days, _)| allowed(days.parse().unwrap_or(0))).map(|(days, label)| view! {
                            <option value=days selected=days == "90">{label}</option>
                        }).collect_view()}
                        <option value="custom">"Custom…"</option>
                        {max_days.is_none().then(|| view! { <option value="never">"Never"</option> })}
                    </select>
                </label>
                <Show when=move || expiry.get() == "custom">
                    <label>"Days"<input type="number" min="1" max=max_days.unwrap_or(3650) node_ref=custom_days data-test="token-days" /></label>
                </Show>
                <label>"Role"
                    <select node_ref=role data-test="token-role">
                        <option value="">{format!("Same as mine ({my_role})")}</option>
                        {Role::ALL.into_iter().filter(|r| *r < my_role).map(|r| view! {
                            <option value=r.as_str()>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <button type="submit" class="primary" disabled=move || create.pending().get() data-test="token-submit">
                "Create token"
            </button>
        </form>
    }
}

#[component]
pub fn AdminTokensPage() -> impl IntoView {
    view! {
        <Page title="All tokens" admin=true>
            <AllTokens />
        </Page>
    }
}

#[component]
fn AllTokens() -> impl IntoView {
    let (owner, set_owner) = signal(String::new());
    let (status, set_status) = signal(String::new());
    let (offset, set_offset) = signal(0u64);
    let revoke = ServerAction::<AdminRevokeToken>::new();
    let tokens = Resource::new(
        move || {
            (
                owner.get(),
                status.get(),
                offset.get(),
                revoke.version().get(),
            )
        },
        |(owner, status, offset, _)| all_tokens(Some(owner), Some(status), offset),
    );
    view! {
        <h1>"All tokens"</h1>
        <div class="toolbar">
            <input type="search" placeholder="Owner email" aria-label="Owner email" data-test="tokens-owner"
                on:change=move |ev| { set_offset.set(0); set_owner.set(event_target_value(&ev)); } />
            <select aria-label="Status" data-test="tokens-status"
                on:change=move |ev| { set_offset.set(0); set_status.set(event_target_value(&ev)); }>
                <option value="">"Any status"</option>
                <option value="active">"active"</option>
                <option value="expired">"expired"</option>
                <option value="revoked">"revoked"</option>
            </select>
        </div>
        {move || revoke.value().get().and_then(Result::err).map(|err| view! {
            <p class="alert" role="alert">{err.detail}</p>
        })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || tokens.get().map(|result| match result {
                Ok(page) => {
                    let total = page.total;
                    view! {
                        <table class="grid" data-test="all-tokens-table">
                            <thead><tr>
                                <th>"Owner"</th><th>"Name"</th><th>"Prefix"</th><th>"Status"</th>
                                <th>"Last used"</th><th>"Expires"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {page.tokens.into_iter().map(|entry| {
                                    let id = entry.item.id.to_string();
                                    let active = entry.item.status == TokenStatus::Active;
                                    view! {
                                        <tr data-test="all-token-row">
                                            <td>{entry.user_email.clone().unwrap_or_else(|| "(deleted user)".into())}</td>
                                            <td>{entry.item.name.clone()}</td>
                                            <td><code>{entry.item.prefix.clone()}</code></td>
                                            <td>{status_badge(entry.item.status)}</td>
                                            <td>{last_used(&entry.item)}</td>
                                            <td>{entry.item.expires_at.map_or_else(|| "never".to_owned(), |at| when(Some(at)))}</td>
                                            <td>{active.then(|| {
                                                let id = id.clone();
                                                let on_revoke = Callback::new(move |()| { revoke.dispatch(AdminRevokeToken { id: id.clone() }); });
                                                view! { <RevokeButton on_revoke=on_revoke /> }
                                            })}</td>
                                        </tr>
                                    }.into_any()
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="pager">
                            <span class="muted">{format!("{total} tokens")}</span>
                            <button type="button" class="secondary" disabled=move || offset.get() == 0
                                on:click=move |_| set_offset.update(|o| *o = o.saturating_sub(u64::from(da_types::paging::UI_PAGE)))>"Previous"</button>
                            <button type="button" class="secondary" disabled=move || offset.get() + u64::from(da_types::paging::UI_PAGE) >= total
                                on:click=move |_| set_offset.update(|o| *o += u64::from(da_types::paging::UI_PAGE))>"Next"</button>
                        </div>
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}
