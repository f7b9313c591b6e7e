//! The admin screens: `/admin/users` and `/admin/audit` (`/admin/groups` is `groups`).

use crate::api::{
    CreateUser, DeleteUser, IssueResetLink, ResendInvite, SetUserPassword, UpdateUser, audit_log,
    list_users, user_groups,
};
use crate::audit_view::{describe, details};
use crate::layout::{
    CopyField, Feedback, FeedbackBar, LocalTime, Page, Pager, RoleHelp, RoleRaised, debounced,
    input_value, use_me, when,
};
use da_types::{AuditRow, Role, Secret, User};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const PAGE_SIZE: u32 = da_types::paging::UI_PAGE;

fn clear_inputs(nodes: &[NodeRef<leptos::html::Input>]) {
    for node in nodes {
        if let Some(el) = node.get() {
            el.set_value("");
            el.set_checked(false);
        }
    }
}

fn invite_lifetime() -> String {
    format!(
        "Send it to them; it works for {} days",
        da_types::audit::links::INVITE_DAYS
    )
}

fn reset_lifetime() -> String {
    format!(
        "It works for {} hours.",
        da_types::audit::links::RESET_HOURS
    )
}

/// A link an admin hands over (invite, reset), shown until the next action.
#[derive(Clone)]
struct HandOver {
    label: String,
    link: String,
}

/// What every part of the users screen shares: where messages go, and how to reload.
#[derive(Clone, Copy)]
struct Screen {
    feedback: Feedback,
    hand_over: RwSignal<Option<HandOver>>,
    version: RwSignal<u32>,
}

impl Screen {
    /// Every action starts from a clean slate: the last message and link go.
    fn start(&self) {
        self.feedback.clear();
        self.hand_over.set(None);
    }

    fn reload(&self) {
        self.version.update(|v| *v += 1);
    }
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
    let screen = Screen {
        feedback: Feedback::new(),
        hand_over: RwSignal::new(None),
        version: RwSignal::new(0),
    };
    let (query, set_query) = signal(String::new());
    let (offset, set_offset) = signal(0u64);
    // Each answer carries the offset it was fetched for, so the pager describes what is shown.
    let users = Resource::new(
        move || (query.get(), offset.get(), screen.version.get()),
        |(q, offset, _)| async move {
            let listing = list_users(Some(q).filter(|q| !q.is_empty()), PAGE_SIZE, offset).await;
            (offset, listing)
        },
    );
    let page = u64::from(PAGE_SIZE);
    // Deleting the last user of the last page leaves it empty: step back to the one before.
    Effect::new(move |_| {
        if let Some((at, Ok(listing))) = users.get()
            && listing.users.is_empty()
            && at > 0
        {
            set_offset.set(at.saturating_sub(page));
        }
    });
    let search = debounced(move |q: String| {
        set_offset.set(0);
        set_query.set(q.trim().to_owned());
    });

    view! {
        <h1>"Users"</h1>
        <CreateUserForm screen=screen />
        <FeedbackBar feedback=screen.feedback />
        {move || screen.hand_over.get().map(|h| view! {
            <div class="card notice" data-test="hand-over">
                <p>{h.label}</p>
                <CopyField value=h.link test="link" />
            </div>
        })}
        <div class="toolbar">
            <input type="search" placeholder="Search email or name" aria-label="Search users"
                data-test="user-search" on:input=search />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || users.get().map(|(at, result)| match result {
                Ok(listing) if listing.users.is_empty() => view! {
                    <p class="muted" data-test="no-users">"No users match."</p>
                }.into_any(),
                Ok(listing) => {
                    let (total, shown) = (listing.total, listing.users.len() as u64);
                    let rows = listing.users.into_iter().map(|user| view! {
                        <UserRow user=user screen=screen />
                    }).collect_view();
                    view! {
                        <div class="table-wrap">
                            <table class="grid" data-test="users-table">
                                <thead><tr>
                                    <th>"Email"</th><th>"Name"</th><th>"Role"</th><th>"Status"</th>
                                    <th>"Last login"</th><th>"Created"</th><th>"Actions"</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                        <Pager offset=at shown=shown total=total one="user" many="users" test="user-count" set_offset=set_offset />
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn CreateUserForm(screen: Screen) -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let invite = NodeRef::<leptos::html::Input>::new();
    let role = NodeRef::<leptos::html::Select>::new();
    let (error, set_error) = signal(None::<String>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        screen.start();
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
            let who = created.user.email.clone();
            match created.invite_url {
                Some(link) => {
                    let sent = if created.invite_email_sent == Some(true) {
                        "It was also mailed to them.".to_owned()
                    } else {
                        format!("{}.", invite_lifetime())
                    };
                    screen.hand_over.set(Some(HandOver {
                        label: format!("Created {who}. Invite link ({sent})"),
                        link,
                    }));
                }
                None => screen.feedback.ok(format!("Created {who}.")),
            }
            // A fresh form: nothing of this user carries over to the next one.
            clear_inputs(&[email, name, password, invite]);
            if let Some(select) = role.get() {
                select.set_value(Role::Analyst.as_str());
            }
            screen.reload();
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
                            <option value=r.as_str() selected=r == Role::Analyst title=r.description()>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Password"<input type="password" node_ref=password placeholder="empty: invite link" data-test="new-password" /></label>
            </div>
            <label class="check"><input type="checkbox" node_ref=invite data-test="new-invite" />" Also make an invite link"</label>
            <RoleHelp />
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
fn UserRow(user: User, screen: Screen) -> impl IntoView {
    let me = use_me();
    let id = user.id.to_string();
    let is_me = user.id == me.id;
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let reset = ServerAction::<IssueResetLink>::new();
    let invite = ServerAction::<ResendInvite>::new();
    let set_password = ServerAction::<SetUserPassword>::new();
    let (confirm_delete, set_confirm_delete) = signal(false);
    let (password_open, set_password_open) = signal(false);
    let (groups_open, set_groups_open) = signal(false);
    let (row_error, set_row_error) = signal(None::<String>);
    let (password_error, set_password_error) = signal(None::<String>);
    let new_password = NodeRef::<leptos::html::Input>::new();
    let email = StoredValue::new(user.email.clone());
    let start = move || {
        screen.start();
        set_row_error.set(None);
    };

    // The role picker shows this; a refused change puts the real role back.
    let shown_role = RwSignal::new(user.role);
    let current_role = user.role;
    Effect::new(move |_| match update.value().get() {
        Some(Ok(updated)) => {
            let who = email.get_value();
            let message = if updated.role != current_role {
                format!("{who} is now {}.", updated.role)
            } else if updated.active {
                format!("Activated {who}: they can sign in again.")
            } else {
                format!("Deactivated {who}: their sessions ended.")
            };
            screen.feedback.ok(message);
            screen.reload();
        }
        Some(Err(err)) => {
            shown_role.set(current_role);
            set_row_error.set(Some(err.detail));
        }
        None => {}
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            screen.feedback.ok(format!(
                "Deleted {}; their sessions and tokens ended.",
                email.get_value()
            ));
            screen.reload();
        }
        Some(Err(err)) => set_row_error.set(Some(err.detail)),
        None => {}
    });
    Effect::new(move |_| match set_password.value().get() {
        Some(Ok(())) => {
            set_password_open.set(false);
            screen.feedback.ok(format!(
                "Set a new password for {}; their sessions ended.",
                email.get_value()
            ));
        }
        // The form stays open, with the reason under it.
        Some(Err(err)) => set_password_error.set(Some(err.detail)),
        None => {}
    });
    Effect::new(move |_| match reset.value().get() {
        Some(Ok(link)) => {
            let sent = if link.email_sent {
                "It was also mailed to them.".to_owned()
            } else {
                reset_lifetime()
            };
            screen.hand_over.set(Some(HandOver {
                label: format!("Reset link for {} ({sent})", email.get_value()),
                link: link.reset_url,
            }));
        }
        Some(Err(err)) => set_row_error.set(Some(err.detail)),
        None => {}
    });
    Effect::new(move |_| match invite.value().get() {
        Some(Ok(link)) => {
            let sent = if link.email_sent {
                "It was also mailed to them.".to_owned()
            } else {
                format!("{}; the old one no longer does.", invite_lifetime())
            };
            screen.hand_over.set(Some(HandOver {
                label: format!("New invite link for {} ({sent})", email.get_value()),
                link: link.invite_url,
            }));
        }
        Some(Err(err)) => set_row_error.set(Some(err.detail)),
        None => {}
    });

    let (role_id, active_id, delete_id, reset_id, invite_id, password_id, groups_id) = (
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
    );
    let active = user.active;
    let invited = user.invited;
    let status = if !active {
        ("badge off", "inactive")
    } else if invited {
        ("badge pending", "invited")
    } else {
        ("badge", "active")
    };
    view! {
        <tr data-test="user-row" data-email=user.email.clone()>
            <td data-test="user-email">{user.email.clone()}</td>
            <td data-test="user-name">{user.name.clone()}</td>
            <td>
                <select aria-label="Role" data-test="user-role"
                    prop:value=move || shown_role.get().as_str()
                    on:change=move |ev| {
                        start();
                        let chosen = event_target_value(&ev);
                        if let Ok(role) = chosen.parse() {
                            shown_role.set(role);
                        }
                        update.dispatch(UpdateUser { id: role_id.clone(), role: Some(chosen), active: None });
                    }>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == current_role title=r.description()>{r.as_str()}</option>
                    }).collect_view()}
                </select>
                <RoleRaised own=user.role effective=user.effective_role test="user-effective" />
            </td>
            <td>
                <span class=status.0 data-test="user-active"
                    title=invited.then_some("Has not chosen a password yet")>{status.1}</span>
            </td>
            <td>{when(user.last_login_at)}</td>
            <td>{when(Some(user.created_at))}</td>
            <td class="actions">
                <div class="buttons">
                    <button type="button" class="link" data-test="toggle-active" disabled=is_me && active
                        on:click=move |_| {
                            start();
                            update.dispatch(UpdateUser { id: active_id.clone(), role: None, active: Some(!active) });
                        }>
                        {if active { "Deactivate" } else { "Activate" }}
                    </button>
                    {if invited {
                        view! {
                            <button type="button" class="link" data-test="resend-invite"
                                on:click=move |_| { start(); invite.dispatch(ResendInvite { id: invite_id.clone() }); }>
                                "Resend invite"
                            </button>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="link" data-test="reset-link"
                                on:click=move |_| { start(); reset.dispatch(IssueResetLink { id: reset_id.clone() }); }>
                                "Reset link"
                            </button>
                        }.into_any()
                    }}
                    <button type="button" class="link" data-test="user-groups"
                        on:click=move |_| set_groups_open.update(|open| *open = !*open)>
                        "Groups"
                    </button>
                    <button type="button" class="link" data-test="set-password"
                        on:click=move |_| {
                            start();
                            set_password_error.set(None);
                            set_password_open.update(|open| *open = !*open);
                        }>
                        "Set password"
                    </button>
                    <Show when=move || !confirm_delete.get()
                        fallback=move || {
                            let delete_id = delete_id.clone();
                            view! {
                                <button type="button" class="link danger" data-test="confirm-delete"
                                    on:click=move |_| { start(); delete.dispatch(DeleteUser { id: delete_id.clone() }); }>
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
                </div>
                <Show when=move || password_open.get()>
                    {
                        let password_id = password_id.clone();
                        view! {
                            <form class="inline" data-test="set-password-form" on:submit=move |ev: SubmitEvent| {
                                ev.prevent_default();
                                start();
                                set_password_error.set(None);
                                set_password.dispatch(SetUserPassword { id: password_id.clone(), password: Secret::new(input_value(new_password)) });
                            }>
                                <input type="password" placeholder="New password" autocomplete="new-password"
                                    node_ref=new_password data-test="new-user-password" />
                                <button type="submit" class="secondary">"Save"</button>
                            </form>
                            {move || password_error.get().map(|e| view! {
                                <p class="alert small" role="alert" data-test="set-password-error">{e}</p>
                            })}
                        }
                    }
                </Show>
                <Show when=move || groups_open.get()>
                    <UserGroups id=groups_id.clone() />
                </Show>
                {move || row_error.get().map(|e| view! {
                    <p class="alert small" role="alert" data-test="row-error">{e}</p>
                })}
            </td>
        </tr>
    }
}

/// A user's groups, fetched when their row asks.
#[component]
fn UserGroups(id: String) -> impl IntoView {
    let groups = Resource::new(move || id.clone(), user_groups);
    view! {
        <div class="small" data-test="user-groups-list">
            <Suspense fallback=|| view! { <span class="muted">"Loading…"</span> }>
                {move || groups.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <span class="muted">"In no group. "<a href="/admin/groups">"Groups"</a></span>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="plain">{list.into_iter().map(|g| view! {
                            <li data-test="user-group">
                                {g.name}
                                {g.role.map(|r| view! { " " <span class="badge">{r.as_str()}</span> })}
                                " " <span class="muted">{match g.source {
                                    da_types::MembershipSource::Sso => "(single sign-on)",
                                    da_types::MembershipSource::Admin => "(added by an admin)",
                                }}</span>
                            </li>
                        }).collect_view()}</ul>
                    }.into_any(),
                    Err(err) => view! { <span class="alert">{err.detail}</span> }.into_any(),
                })}
            </Suspense>
        </div>
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
    // `/admin/audit?action=auth.login_failed` opens filtered (the dashboard links so).
    let initial = use_query_map()
        .read_untracked()
        .get("action")
        .unwrap_or_default();
    let (prefix, set_prefix) = signal(initial.clone());
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
        // New filters: nothing of the old results may be continued.
        prefix.track();
        actor.track();
        more.set(Vec::new());
        next.set(None);
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = first_page.get() {
            more.set(Vec::new());
            next.set(page.next_cursor);
        }
    });
    // A page fetched with "Load more" remembers the filters it was for: one that arrives after
    // they changed is dropped instead of being appended to the new results.
    let load_more = Action::new(move |cursor: &String| {
        let cursor = cursor.clone();
        let filters = (prefix.get_untracked(), actor.get_untracked());
        let (prefix, actor) = filters.clone();
        async move {
            let page = audit_log(
                Some(prefix).filter(|p| !p.is_empty()),
                Some(actor).filter(|a| !a.is_empty()),
                Some(cursor),
            )
            .await;
            (filters, page)
        }
    });
    Effect::new(move |_| match load_more.value().get() {
        Some((filters, _)) if filters != (prefix.get_untracked(), actor.get_untracked()) => {}
        Some((_, Ok(page))) => {
            more.update(|rows| rows.extend(page.rows));
            next.set(page.next_cursor);
        }
        Some((_, Err(err))) => set_error.set(Some(err.detail)),
        None => {}
    });
    let filter_action = debounced(move |value: String| set_prefix.set(value.trim().to_owned()));
    let filter_actor = debounced(move |value: String| set_actor.set(value.trim().to_owned()));

    view! {
        <h1>"Audit log"</h1>
        <div class="toolbar">
            <input type="search" placeholder="Action, e.g. user. or token.revoke" aria-label="Action"
                data-test="audit-action" prop:value=initial on:input=filter_action />
            <input type="search" placeholder="Who: part of an email" aria-label="Actor"
                data-test="audit-actor" on:input=filter_actor />
        </div>
        <Show when=move || error.get().is_some()>
            <p class="alert" role="alert">{move || error.get().unwrap_or_default()}</p>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || first_page.get().map(|result| match result {
                Ok(page) if page.rows.is_empty() => view! {
                    <p class="muted" data-test="no-audit-rows">"No audit rows match."</p>
                }.into_any(),
                Ok(page) => view! {
                    <div class="table-wrap">
                        <table class="grid" data-test="audit-table">
                            <thead><tr>
                                <th>"When"</th><th>"Who"</th><th>"What"</th><th>"Details"</th><th>"From"</th>
                            </tr></thead>
                            <tbody>
                                {page.rows.into_iter().map(audit_row).collect_view()}
                                {move || more.get().into_iter().map(audit_row).collect_view()}
                            </tbody>
                        </table>
                    </div>
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
    let sentence = describe(&row);
    let who = row.actor_email.clone().unwrap_or_else(|| "—".into());
    let who_id = row.actor_id.map(|id| id.to_string());
    let pairs = details(&row.params);
    view! {
        <tr data-test="audit-row">
            <td class="nowrap"><LocalTime at=row.at /></td>
            <td title=who_id>{who}</td>
            <td>
                <span data-test="audit-row-text" title=row.resource.clone()>{sentence}</span>
                <br /><code class="muted small" data-test="audit-row-action">{row.action}</code>
            </td>
            <td class="params">
                <dl class="pairs">
                    {pairs.into_iter().map(|(key, value)| view! { <dt>{key}</dt><dd>{value}</dd> }).collect_view()}
                </dl>
            </td>
            <td>{row.ip.unwrap_or_default()}</td>
        </tr>
    }
}
