//! The admin screens: `/admin/users` and `/admin/audit`.

use crate::api::{
    CreateUser, DeleteUser, IssueResetLink, SetUserPassword, UpdateUser, audit_log, list_users,
};
use crate::layout::{CopyField, Page, use_me, when};
use da_types::Secret;
use da_types::{AuditRow, Role, User};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

const PAGE_SIZE: u32 = da_types::paging::UI_PAGE;

fn input_value(node: NodeRef<leptos::html::Input>) -> String {
    node.get().map(|el| el.value()).unwrap_or_default()
}

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Page title="Users" admin=true>
            <UsersScreen />
        </Page>
    }
}

#[component]
fn UsersScreen() -> impl IntoView {
    let (query, set_query) = signal(String::new());
    let (offset, set_offset) = signal(0u64);
    // Bumped after every change so the table reloads.
    let (version, set_version) = signal(0u32);
    let users = Resource::new(
        move || (query.get(), offset.get(), version.get()),
        |(q, offset, _)| list_users(Some(q).filter(|q| !q.is_empty()), PAGE_SIZE, offset),
    );
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<(String, String)>);
    let reload = move || set_version.update(|v| *v += 1);

    view! {
        <h1>"Users"</h1>
        <CreateUserForm on_created=move |label, link| {
            set_error.set(None);
            set_notice.set(link.map(|link| (label, link)));
            reload();
        } />
        <Show when=move || error.get().is_some()>
            <p class="alert" role="alert" data-test="admin-error">{move || error.get().unwrap_or_default()}</p>
        </Show>
        <Show when=move || notice.get().is_some()>
            {move || notice.get().map(|(label, link)| view! {
                <div class="card notice">
                    <p>{label}</p>
                    <CopyField value=link test="link" />
                </div>
            })}
        </Show>
        <div class="toolbar">
            <input type="search" placeholder="Search email or name" aria-label="Search users"
                data-test="user-search"
                on:input=move |ev| { set_offset.set(0); set_query.set(event_target_value(&ev)); } />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || users.get().map(|result| match result {
                Ok(page) => {
                    let total = page.total;
                    let rows = page.users.into_iter().map(|user| view! {
                        <UserRow user=user set_error=set_error set_notice=set_notice on_change=reload />
                    }.into_any()).collect_view();
                    view! {
                        <table class="grid" data-test="users-table">
                            <thead><tr>
                                <th>"Email"</th><th>"Name"</th><th>"Role"</th><th>"Active"</th>
                                <th>"Last login"</th><th>"Created"</th><th>"Actions"</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                        <div class="pager">
                            <span class="muted" data-test="user-count">{format!("{total} users")}</span>
                            <button type="button" class="secondary" disabled=move || offset.get() == 0
                                on:click=move |_| set_offset.update(|o| *o = o.saturating_sub(u64::from(PAGE_SIZE)))>
                                "Previous"
                            </button>
                            <button type="button" class="secondary"
                                disabled=move || offset.get() + u64::from(PAGE_SIZE) >= total
                                on:click=move |_| set_offset.update(|o| *o += u64::from(PAGE_SIZE))>
                                "Next"
                            </button>
                        </div>
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn CreateUserForm(
    on_created: impl Fn(String, Option<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let invite = NodeRef::<leptos::html::Input>::new();
    let role = NodeRef::<leptos::html::Select>::new();
    let (error, set_error) = signal(None::<String>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        set_error.set(None);
        let password = input_value(password);
        create.dispatch(CreateUser {
            email: input_value(email),
            name: Some(input_value(name)),
            role: role
                .get()
                .map(|el| el.value())
                .unwrap_or_else(|| "analyst".into()),
            send_invite: invite.get().is_some_and(|el| el.checked()) || password.is_empty(),
            password: Some(Secret::new(password)),
        });
    };
    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            let label = format!("Created {}.", created.user.email);
            match created.invite_url {
                Some(url) => {
                    let sent = if created.invite_email_sent == Some(true) {
                        " It was also sent by mail."
                    } else {
                        " Send it to them; it works for 7 days."
                    };
                    on_created(format!("{label} Invite link:{sent}"), Some(url));
                }
                None => on_created(label, None),
            }
            for node in [email, name, password] {
                if let Some(el) = node.get() {
                    el.set_value("");
                }
            }
        }
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });

    view! {
        <form class="card create-user" on:submit=submit data-test="create-user">
            <h2>"Add a user"</h2>
            <div class="row">
                <label>"Email"<input type="email" required node_ref=email data-test="new-email" /></label>
                <label>"Name"<input type="text" node_ref=name placeholder="optional" data-test="new-name" /></label>
                <label>"Role"
                    <select node_ref=role data-test="new-role">
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == Role::Analyst>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Password"<input type="password" node_ref=password placeholder="empty: invite link" data-test="new-password" /></label>
            </div>
            <label class="check"><input type="checkbox" node_ref=invite data-test="new-invite" />" Create an invite link"</label>
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert" data-test="create-error">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" class="primary" disabled=move || create.pending().get() data-test="create-submit">
                "Add user"
            </button>
        </form>
    }
}

#[component]
fn UserRow(
    user: User,
    set_error: WriteSignal<Option<String>>,
    set_notice: WriteSignal<Option<(String, String)>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let me = use_me();
    let id = user.id.to_string();
    let is_me = user.id == me.id;
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let reset = ServerAction::<IssueResetLink>::new();
    let set_password = ServerAction::<SetUserPassword>::new();
    let (confirm_delete, set_confirm_delete) = signal(false);
    let (password_open, set_password_open) = signal(false);
    let new_password = NodeRef::<leptos::html::Input>::new();
    let email = user.email.clone();

    // Every action ends the same way: an error in words, or a reload.
    let settle = move |result: Option<Result<(), String>>| match result {
        Some(Ok(())) => {
            set_error.set(None);
            on_change();
        }
        Some(Err(detail)) => {
            set_error.set(Some(detail));
            on_change();
        }
        None => {}
    };
    // The role picker shows this; a refused change puts the real role back.
    let shown_role = RwSignal::new(user.role);
    let current_role = user.role;
    Effect::new(move |_| {
        let outcome = update
            .value()
            .get()
            .map(|r| r.map(|_| ()).map_err(|e| e.detail));
        if matches!(outcome, Some(Err(_))) {
            shown_role.set(current_role);
        }
        settle(outcome);
    });
    Effect::new(move |_| settle(delete.value().get().map(|r| r.map_err(|e| e.detail))));
    Effect::new(move |_| {
        settle(set_password.value().get().map(|r| r.map_err(|e| e.detail)));
    });
    let reset_email = email.clone();
    Effect::new(move |_| match reset.value().get() {
        Some(Ok(link)) => {
            set_error.set(None);
            let sent = if link.email_sent {
                " It was also sent by mail."
            } else {
                ""
            };
            set_notice.set(Some((
                format!("Reset link for {reset_email}:{sent}"),
                link.reset_url,
            )));
        }
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });

    let (role_id, active_id, delete_id, reset_id, password_id) =
        (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    let active = user.active;
    view! {
        <tr data-test="user-row" data-email=user.email.clone()>
            <td data-test="user-email">{user.email.clone()}</td>
            <td data-test="user-name">{user.name.clone()}</td>
            <td>
                <select aria-label="Role" data-test="user-role"
                    prop:value=move || shown_role.get().as_str()
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev);
                        if let Ok(role) = chosen.parse() {
                            shown_role.set(role);
                        }
                        update.dispatch(UpdateUser { id: role_id.clone(), role: Some(chosen), active: None });
                    }>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == current_role>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td>
                <span class=if active { "badge" } else { "badge off" } data-test="user-active">
                    {if active { "active" } else { "inactive" }}
                </span>
            </td>
            <td>{when(user.last_login_at)}</td>
            <td>{when(Some(user.created_at))}</td>
            <td class="actions">
                <button type="button" class="link" data-test="toggle-active" disabled=is_me && active
                    on:click=move |_| {
                        update.dispatch(UpdateUser { id: active_id.clone(), role: None, active: Some(!active) });
                    }>
                    {if active { "Deactivate" } else { "Activate" }}
                </button>
                <button type="button" class="link" data-test="reset-link"
                    on:click=move |_| { reset.dispatch(IssueResetLink { id: reset_id.clone() }); }>
                    "Reset link"
                </button>
                <button type="button" class="link" data-test="set-password"
                    on:click=move |_| set_password_open.update(|open| *open = !*open)>
                    "Set password"
                </button>
                <Show when=move || !confirm_delete.get()
                    fallback=move || {
                        let delete_id = delete_id.clone();
                        view! {
                            <button type="button" class="link danger" data-test="confirm-delete"
                                on:click=move |_| { delete.dispatch(DeleteUser { id: delete_id.clone() }); }>
                                "Really delete?"
                            </button>
                            <button type="button" class="link" on:click=move |_| set_confirm_delete.set(false)>"Keep"</button>
                        }
                    }>
                    <button type="button" class="link danger" data-test="delete" disabled=is_me
                        on:click=move |_| set_confirm_delete.set(true)>
                        "Delete"
                    </button>
                </Show>
                <Show when=move || password_open.get()>
                    {
                        let password_id = password_id.clone();
                        view! {
                            <form class="inline" on:submit=move |ev: SubmitEvent| {
                                ev.prevent_default();
                                set_password.dispatch(SetUserPassword { id: password_id.clone(), password: Secret::new(input_value(new_password)) });
                                set_password_open.set(false);
                            }>
                                <input type="password" placeholder="New password" node_ref=new_password data-test="new-user-password" />
                                <button type="submit" class="secondary">"Save"</button>
                            </form>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Page title="Audit log" admin=true>
            <AuditScreen />
        </Page>
    }
}

#[component]
fn AuditScreen() -> impl IntoView {
    let (prefix, set_prefix) = signal(String::new());
    let (actor, set_actor) = signal(String::new());
    let first_page = Resource::new(
        move || (prefix.get(), actor.get()),
        |(prefix, actor)| {
            audit_log(
                Some(prefix).filter(|p| !p.is_empty()),
                Some(actor).filter(|a| !a.is_empty()),
                None,
            )
        },
    );
    // Rows fetched with "Load more", after the first page; reset when the filters change.
    let more = RwSignal::new(Vec::<AuditRow>::new());
    let next = RwSignal::new(None::<String>);
    let (error, set_error) = signal(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first_page.get() {
            more.set(Vec::new());
            next.set(page.next_cursor);
        }
    });
    let load_more = Action::new(move |cursor: &String| {
        let cursor = cursor.clone();
        let (prefix, actor) = (prefix.get_untracked(), actor.get_untracked());
        async move {
            audit_log(
                Some(prefix).filter(|p| !p.is_empty()),
                Some(actor).filter(|a| !a.is_empty()),
                Some(cursor),
            )
            .await
        }
    });
    Effect::new(move |_| match load_more.value().get() {
        Some(Ok(page)) => {
            more.update(|rows| rows.extend(page.rows));
            next.set(page.next_cursor);
        }
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });

    view! {
        <h1>"Audit log"</h1>
        <div class="toolbar">
            <input type="search" placeholder="Action prefix, e.g. user." aria-label="Action prefix"
                data-test="audit-action" on:change=move |ev| set_prefix.set(event_target_value(&ev)) />
            <input type="search" placeholder="Actor email or id" aria-label="Actor"
                data-test="audit-actor" on:change=move |ev| set_actor.set(event_target_value(&ev)) />
        </div>
        <Show when=move || error.get().is_some()>
            <p class="alert" role="alert">{move || error.get().unwrap_or_default()}</p>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || first_page.get().map(|result| match result {
                Ok(page) => view! {
                    <table class="grid" data-test="audit-table">
                        <thead><tr>
                            <th>"When"</th><th>"Actor"</th><th>"Action"</th><th>"Resource"</th>
                            <th>"Details"</th><th>"IP"</th>
                        </tr></thead>
                        <tbody>
                            {page.rows.into_iter().map(audit_row).collect_view()}
                            {move || more.get().into_iter().map(audit_row).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
        <Show when=move || next.get().is_some()>
            <button type="button" class="secondary" data-test="audit-more" disabled=move || load_more.pending().get()
                on:click=move |_| {
                    if let Some(cursor) = next.get_untracked() {
                        load_more.dispatch(cursor);
                    }
                }>
                "Load more"
            </button>
        </Show>
    }
}

fn audit_row(row: AuditRow) -> impl IntoView {
    view! {
        <tr data-test="audit-row">
            <td>{when(Some(row.at))}</td>
            <td>{row.actor_email.unwrap_or_else(|| "—".into())}</td>
            <td data-test="audit-row-action"><code>{row.action}</code></td>
            <td>{row.resource.unwrap_or_default()}</td>
            <td class="params"><code>{row.params.to_string()}</code></td>
            <td>{row.ip.unwrap_or_default()}</td>
        </tr>
    }
}
