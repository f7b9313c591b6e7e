//! `/tokens` (your personal access tokens) and `/admin/tokens` (every token).

use crate::api::{
    AdminRevokeToken, CreateToken, RevokeToken, all_tokens, install_info, my_tokens, token_max_days,
};
use crate::layout::{
    CopyBlock, CopyField, Feedback, FeedbackBar, Page, Pager, RoleHelp, debounced, use_me, when,
};
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
    let feedback = Feedback::new();
    // The names of your active tokens, for the "already used" warning.
    let active_names = Memo::new(move |_| {
        tokens
            .get()
            .and_then(Result::ok)
            .map(|list| {
                list.into_iter()
                    .filter(|t| t.status == TokenStatus::Active)
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let revoking = StoredValue::new(String::new());
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(())) => feedback.ok(format!(
            "Revoked “{}”: it stops working now.",
            revoking.get_value()
        )),
        Some(Err(err)) => feedback.error(err.detail),
        None => {}
    });
    // The same URL the install script bakes in (DA_PUBLIC_URL, else this page's origin).
    let server = Resource::new(|| (), |_| install_info());

    view! {
        <h1>"Personal access tokens"</h1>
        <p class="muted">
            "Tokens let scripts and CI jobs call the API as you: "
            <code>"Authorization: Bearer da_pat_…"</code>
            ". Treat them like passwords."
        </p>
        <Suspense fallback=|| ()>
            {move || max_days.get().map(|max| view! {
                <CreateTokenForm create=create max_days=max.ok().flatten() active_names=active_names feedback=feedback />
            })}
        </Suspense>
        {move || create.value().get().map(|result| match result {
            Ok(created) => {
                let export = match server.get().and_then(Result::ok).and_then(|i| i.server_url) {
                    Some(url) => format!("export DA_SERVER={url}\nexport DA_TOKEN={}", created.token),
                    None => format!("export DA_TOKEN={}", created.token),
                };
                view! {
                    <section class="card notice" data-test="new-token">
                        <p><strong>{format!("Token “{}” created.", created.item.name)}</strong>
                            " Copy it now: it is shown only this once."</p>
                        <CopyField value=created.token test="token-secret" focus=true />
                        <p class="muted">"For a shell or CI job:"</p>
                        <CopyBlock value=export test="token-export" />
                    </section>
                }.into_any()
            }
            Err(err) => view! { <p class="alert" role="alert" data-test="token-error">{err.detail}</p> }.into_any(),
        })}
        <FeedbackBar feedback=feedback />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || tokens.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! { <p class="muted" data-test="no-tokens">"No tokens yet."</p> }.into_any(),
                Ok(list) => view! {
                    <div class="table-wrap">
                        <table class="grid" data-test="tokens-table">
                            <thead><tr>
                                <th>"Name"</th><th>"Prefix"</th><th>"Role"</th><th>"Created"</th>
                                <th>"Expires"</th><th>"Last used"</th><th>"Status"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|token| {
                                    let id = token.id.to_string();
                                    let name = token.name.clone();
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
                                                let (id, name) = (id.clone(), name.clone());
                                                let on_revoke = Callback::new(move |()| {
                                                    feedback.clear();
                                                    revoking.set_value(name.clone());
                                                    revoke.dispatch(RevokeToken { id: id.clone() });
                                                });
                                                view! { <RevokeButton on_revoke=on_revoke /> }
                                            })}</td>
                                        </tr>
                                    }.into_any()
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn CreateTokenForm(
    create: ServerAction<CreateToken>,
    max_days: Option<i64>,
    active_names: Memo<Vec<String>>,
    feedback: Feedback,
) -> impl IntoView {
    let me = use_me();
    let name = NodeRef::<leptos::html::Input>::new();
    let custom_days = NodeRef::<leptos::html::Input>::new();
    let role = NodeRef::<leptos::html::Select>::new();
    let (expiry, set_expiry) = signal("90".to_owned());
    let (typed, set_typed) = signal(String::new());
    let allowed = move |days: i64| max_days.is_none_or(|max| days <= max);
    let taken = move || {
        let typed = typed.get();
        let typed = typed.trim();
        !typed.is_empty() && active_names.get().iter().any(|n| n == typed)
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        feedback.clear();
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
    let expiry_select = NodeRef::<leptos::html::Select>::new();
    // After a success the form is fresh: the next token needs a name of its own, and starts
    // from the default lifetime and role.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            if let Some(el) = name.get() {
                el.set_value("");
            }
            if let Some(el) = role.get() {
                el.set_value("");
            }
            if let Some(el) = expiry_select.get() {
                el.set_value("90");
            }
            set_expiry.set("90".to_owned());
            set_typed.set(String::new());
        }
    });
    let my_role = me.effective_role;
    view! {
        <form class="card create-token" on:submit=submit data-test="create-token">
            <h2>"New token"</h2>
            <div class="row">
                <label>"Name"<input type="text" required maxlength=da_types::validation::LABEL_MAX_CHARS placeholder="e.g. nightly CI" node_ref=name
                    data-test="token-name" on:input=move |ev| set_typed.set(event_target_value(&ev)) /></label>
                <label>"Expires after"
                    <select data-test="token-expiry" node_ref=expiry_select on:change=move |ev| set_expiry.set(event_target_value(&ev))>
                        {PRESETS.into_iter().filter(|(days, _)| allowed(days.parse().unwrap_or(0))).map(|(days, label)| view! {
                            <option value=days selected=days == "90">{label}</option>
                        }).collect_view()}
                        <option value="custom">"Custom…"</option>
                        {max_days.is_none().then(|| view! { <option value="never">"Never"</option> })}
                    </select>
                </label>
                <Show when=move || expiry.get() == "custom">
                    <label>"Days"<input type="number" class="days" min="1" max=max_days.unwrap_or(3650)
                        placeholder="e.g. 14" node_ref=custom_days data-test="token-days" /></label>
                </Show>
                <label>"Role"
                    <select node_ref=role data-test="token-role">
                        <option value="">{format!("Same as mine ({my_role})")}</option>
                        {Role::ALL.into_iter().filter(|r| *r < my_role).map(|r| view! {
                            <option value=r.as_str() title=r.description()>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <Show when=taken>
                <p class="warn" role="status" data-test="token-name-taken">
                    "You already have an active token with this name. Pick another, so that "
                    <code>"da auth token revoke <name>"</code>" names one token."
                </p>
            </Show>
            <RoleHelp />
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
    let feedback = Feedback::new();
    let tokens = Resource::new(
        move || {
            (
                owner.get(),
                status.get(),
                offset.get(),
                revoke.version().get(),
            )
        },
        |(owner, status, offset, _)| async move {
            (offset, all_tokens(Some(owner), Some(status), offset).await)
        },
    );
    let revoking = StoredValue::new(String::new());
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(())) => feedback.ok(format!("Revoked {}.", revoking.get_value())),
        Some(Err(err)) => feedback.error(err.detail),
        None => {}
    });
    let page = u64::from(da_types::paging::UI_PAGE);
    // The last page can empty out under the reader (tokens of a deleted user): step back then.
    Effect::new(move |_| {
        if let Some((at, Ok(listing))) = tokens.get()
            && listing.tokens.is_empty()
            && at > 0
        {
            set_offset.set(at.saturating_sub(page));
        }
    });
    let search = debounced(move |value: String| {
        set_offset.set(0);
        set_owner.set(value.trim().to_owned());
    });
    view! {
        <h1>"All tokens"</h1>
        <div class="toolbar">
            <input type="search" placeholder="Owner: part of an email" aria-label="Owner" data-test="tokens-owner"
                on:input=search />
            <select aria-label="Status" data-test="tokens-status"
                on:change=move |ev| { set_offset.set(0); set_status.set(event_target_value(&ev)); }>
                <option value="">"Any status"</option>
                <option value="active">"active"</option>
                <option value="expired">"expired"</option>
                <option value="revoked">"revoked"</option>
            </select>
        </div>
        <FeedbackBar feedback=feedback />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || tokens.get().map(|(at, result)| match result {
                Ok(listing) if listing.tokens.is_empty() => view! {
                    <p class="muted" data-test="no-tokens">"No tokens match."</p>
                }.into_any(),
                Ok(listing) => {
                    let (total, shown) = (listing.total, listing.tokens.len() as u64);
                    view! {
                        <div class="table-wrap">
                            <table class="grid" data-test="all-tokens-table">
                                <thead><tr>
                                    <th>"Owner"</th><th>"Name"</th><th>"Prefix"</th><th>"Status"</th>
                                    <th>"Last used"</th><th>"Expires"</th><th></th>
                                </tr></thead>
                                <tbody>
                                    {listing.tokens.into_iter().map(|entry| {
                                        let id = entry.item.id.to_string();
                                        let label = format!(
                                            "“{}” of {}",
                                            entry.item.name,
                                            entry.user_email.clone().unwrap_or_else(|| "a deleted user".into())
                                        );
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
                                                    let (id, label) = (id.clone(), label.clone());
                                                    let on_revoke = Callback::new(move |()| {
                                                        feedback.clear();
                                                        revoking.set_value(label.clone());
                                                        revoke.dispatch(AdminRevokeToken { id: id.clone() });
                                                    });
                                                    view! { <RevokeButton on_revoke=on_revoke /> }
                                                })}</td>
                                            </tr>
                                        }.into_any()
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <Pager offset=at shown=shown total=total one="token" many="tokens" test="token-count" set_offset=set_offset />
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}
