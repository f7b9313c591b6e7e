//! `/admin/groups`: groups, the role each grants, the identity provider's values that map onto
//! it, and its members (those single sign-on manages shown read-only, with the reason).

use crate::api::{
    AddGroupMember, CreateGroup, DeleteGroup, RemoveGroupMember, UpdateGroup, external_id_lines,
    group_members, list_groups,
};
use crate::layout::{
    Feedback, FeedbackBar, LocalTime, Page, Pager, RoleHelp, Screen, debounced, input_value,
    select_value, textarea_value,
};
use da_types::{Group, GroupMember, MembershipSource, Role};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

const PAGE_SIZE: u64 = da_types::paging::UI_PAGE as u64;

/// Why an admin cannot remove a membership single sign-on made.
pub const SSO_MANAGED: &str = "Managed by single sign-on: the identity provider's groups claim \
     decides this membership; change it there (it is replaced at every sign-in).";

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! {
        <Page title="Groups" admin=true>
            <GroupsScreen />
        </Page>
    }
}

#[component]
fn GroupsScreen() -> impl IntoView {
    let screen = Screen::new();
    let (query, set_query) = signal(String::new());
    let (offset, set_offset) = signal(0u64);
    let groups = Resource::new(
        move || (query.get(), offset.get(), screen.version.get()),
        |(q, offset, _)| async move {
            (
                offset,
                list_groups(Some(q).filter(|q| !q.is_empty()), offset).await,
            )
        },
    );
    // Deleting the last group of the last page leaves it empty: step back to the one before.
    Effect::new(move |_| {
        if let Some((at, Ok(page))) = groups.get()
            && page.groups.is_empty()
            && at > 0
        {
            set_offset.set(at.saturating_sub(PAGE_SIZE));
        }
    });
    let search = debounced(move |q: String| {
        set_offset.set(0);
        set_query.set(q.trim().to_owned());
    });
    view! {
        <h1>"Groups"</h1>
        <p class="muted">
            "A member's role is the highest of their own and their groups' roles, for the web UI, \
             the CLI and tokens alike. Groups with external ids follow the identity provider: \
             single sign-on puts people in them at every sign-in."
        </p>
        <CreateGroupForm screen=screen />
        <FeedbackBar feedback=screen.feedback />
        <div class="toolbar">
            <input type="search" placeholder="Search name or description" aria-label="Search groups"
                data-test="group-search" on:input=search />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || groups.get().map(|(at, result)| match result {
                Ok(page) if page.groups.is_empty() => view! {
                    <p class="muted" data-test="no-groups">"No groups match."</p>
                }.into_any(),
                Ok(page) => {
                    let (total, shown) = (page.total, page.groups.len() as u64);
                    view! {
                        <div class="table-wrap">
                            <table class="grid" data-test="groups-table">
                                <thead><tr>
                                    <th>"Name"</th><th>"Grants role"</th><th>"Members"</th>
                                    <th>"External ids"</th><th>"Actions"</th>
                                </tr></thead>
                                {page.groups.into_iter().map(|group| view! {
                                    <GroupRows group=group screen=screen />
                                }).collect_view()}
                            </table>
                        </div>
                        <Pager offset=at shown=shown total=total one="group" many="groups" test="group-count" set_offset=set_offset />
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// The `<option>`s of a role picker: "no role", then every role.
fn role_options(current: Option<Role>) -> impl IntoView {
    view! {
        <option value="" selected=current.is_none()>"no role"</option>
        {Role::ALL.into_iter().map(|r| view! {
            <option value=r.as_str() selected=current == Some(r) title=r.description()>{r.as_str()}</option>
        }).collect_view()}
    }
}

#[component]
fn CreateGroupForm(screen: Screen) -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let description = NodeRef::<leptos::html::Input>::new();
    let role = NodeRef::<leptos::html::Select>::new();
    let external = NodeRef::<leptos::html::Textarea>::new();
    let (error, set_error) = signal(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        screen.feedback.clear();
        set_error.set(None);
        create.dispatch(CreateGroup {
            name: input_value(name),
            description: input_value(description),
            role: select_value(role),
            external_ids: textarea_value(external),
        });
    };
    Effect::new(move |_| match create.value().get() {
        Some(Ok(group)) => {
            screen
                .feedback
                .ok(format!("Created the group {}.", group.name));
            for input in [name, description] {
                if let Some(el) = input.get() {
                    el.set_value("");
                }
            }
            if let Some(el) = external.get() {
                el.set_value("");
            }
            if let Some(el) = role.get() {
                el.set_value("");
            }
            screen.reload();
        }
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });
    view! {
        <form class="card" on:submit=submit data-test="create-group">
            <h2>"Add a group"</h2>
            <div class="row">
                <label>"Name"<input type="text" required maxlength=da_types::validation::LABEL_MAX_CHARS node_ref=name data-test="new-group-name" /></label>
                <label>"Description"<input type="text" node_ref=description placeholder="optional" data-test="new-group-description" /></label>
                <label>"Grants role"
                    <select node_ref=role data-test="new-group-role">{role_options(None)}</select>
                </label>
            </div>
            <label>"External ids (the identity provider's group values, one per line)"
                <textarea rows="2" node_ref=external data-test="new-group-external"
                    placeholder="e.g. analysts@example.com, or an Entra group object id"></textarea>
            </label>
            <RoleHelp />
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert" data-test="create-group-error">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" class="primary" disabled=move || create.pending().get() data-test="create-group-submit">
                "Add group"
            </button>
        </form>
    }
}

/// A group's row, and below it (when opened) its edit form or its members.
#[component]
fn GroupRows(group: Group, screen: Screen) -> impl IntoView {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        Nothing,
        Edit,
        Members,
    }
    let (open, set_open) = signal(Open::Nothing);
    let (confirm_delete, set_confirm_delete) = signal(false);
    let (row_error, set_row_error) = signal(None::<String>);
    let member_count = RwSignal::new(group.member_count);
    let delete = ServerAction::<DeleteGroup>::new();
    let name = StoredValue::new(group.name.clone());
    let id = group.id.to_string();
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            screen.feedback.ok(format!(
                "Deleted the group {}; its members lost the role it granted.",
                name.get_value()
            ));
            screen.reload();
        }
        Some(Err(err)) => set_row_error.set(Some(err.detail)),
        None => {}
    });
    let toggle = move |what: Open| {
        screen.feedback.clear();
        set_row_error.set(None);
        set_open.update(|open| *open = if *open == what { Open::Nothing } else { what });
    };
    let delete_id = id.clone();
    let stored = StoredValue::new(group.clone());
    view! {
        <tbody data-test="group" data-name=group.name.clone()>
            <tr>
                <td>
                    <strong data-test="group-name">{group.name.clone()}</strong>
                    {(!group.description.is_empty()).then(|| view! {
                        <br /><span class="muted small">{group.description.clone()}</span>
                    })}
                </td>
                <td data-test="group-role">{match group.role {
                    Some(role) => view! { <span class="badge" title=role.description()>{role.as_str()}</span> }.into_any(),
                    None => view! { <span class="muted">"—"</span> }.into_any(),
                }}</td>
                <td data-test="group-members">{move || member_count.get()}</td>
                <td class="small">{group.external_ids.iter().map(|v| view! {
                    <code class="external-id">{v.clone()}</code>" "
                }).collect_view()}</td>
                <td class="actions">
                    <div class="buttons">
                        <button type="button" class="link" data-test="group-edit" on:click=move |_| toggle(Open::Edit)>"Edit"</button>
                        <button type="button" class="link" data-test="group-show-members" on:click=move |_| toggle(Open::Members)>"Members"</button>
                        <Show when=move || !confirm_delete.get()
                            fallback=move || {
                                let delete_id = delete_id.clone();
                                view! {
                                    <button type="button" class="link danger" data-test="group-confirm-delete"
                                        on:click=move |_| { screen.feedback.clear(); delete.dispatch(DeleteGroup { id: delete_id.clone() }); }>
                                        "Really delete?"
                                    </button>
                                    <button type="button" class="link" on:click=move |_| set_confirm_delete.set(false)>"Keep"</button>
                                }
                            }>
                            <button type="button" class="link danger" data-test="group-delete"
                                on:click=move |_| set_confirm_delete.set(true)>"Delete"</button>
                        </Show>
                    </div>
                    {move || row_error.get().map(|e| view! {
                        <p class="alert small" role="alert" data-test="group-row-error">{e}</p>
                    })}
                </td>
            </tr>
            <Show when=move || open.get() == Open::Edit>
                <tr class="detail"><td colspan="5">
                    <EditGroupForm group=stored.get_value() screen=screen on_done=move || set_open.set(Open::Nothing) />
                </td></tr>
            </Show>
            <Show when=move || open.get() == Open::Members>
                <tr class="detail"><td colspan="5">
                    <Members group_id=stored.get_value().id.to_string() member_count=member_count />
                </td></tr>
            </Show>
        </tbody>
    }
}

#[component]
fn EditGroupForm(
    group: Group,
    screen: Screen,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let update = ServerAction::<UpdateGroup>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let description = NodeRef::<leptos::html::Input>::new();
    let role = NodeRef::<leptos::html::Select>::new();
    let external = NodeRef::<leptos::html::Textarea>::new();
    let (error, set_error) = signal(None::<String>);
    let id = group.id.to_string();
    let original = StoredValue::new(group.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        set_error.set(None);
        let original = original.get_value();
        let (new_name, new_description, new_role, new_external) = (
            input_value(name),
            input_value(description),
            select_value(role),
            textarea_value(external),
        );
        let old_role = original
            .role
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default();
        let request = UpdateGroup {
            id: id.clone(),
            name: (new_name != original.name).then_some(new_name),
            description: (new_description != original.description).then_some(new_description),
            role: (new_role != old_role).then_some(new_role),
            external_ids: (external_id_lines(&new_external) != original.external_ids)
                .then_some(new_external),
        };
        if request.name.is_none()
            && request.description.is_none()
            && request.role.is_none()
            && request.external_ids.is_none()
        {
            on_done();
            return;
        }
        update.dispatch(request);
    };
    Effect::new(move |_| match update.value().get() {
        Some(Ok(group)) => {
            screen
                .feedback
                .ok(format!("Saved the group {}.", group.name));
            on_done();
            screen.reload();
        }
        Some(Err(err)) => set_error.set(Some(err.detail)),
        None => {}
    });
    view! {
        <form class="edit-group" on:submit=submit data-test="edit-group">
            <div class="row">
                <label>"Name"<input type="text" required maxlength=da_types::validation::LABEL_MAX_CHARS prop:value=group.name.clone() node_ref=name data-test="edit-group-name" /></label>
                <label>"Description"<input type="text" prop:value=group.description.clone() node_ref=description data-test="edit-group-description" /></label>
                <label>"Grants role"
                    <select node_ref=role data-test="edit-group-role">{role_options(group.role)}</select>
                </label>
            </div>
            <label>"External ids (one per line)"
                <textarea rows="2" node_ref=external data-test="edit-group-external"
                    prop:value=group.external_ids.join("\n")></textarea>
            </label>
            <Show when=move || error.get().is_some()>
                <p class="alert small" role="alert" data-test="edit-group-error">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <div class="buttons">
                <button type="submit" class="primary" disabled=move || update.pending().get() data-test="edit-group-save">"Save"</button>
                <button type="button" class="secondary" on:click=move |_| on_done()>"Cancel"</button>
            </div>
        </form>
    }
}

/// The members of one group, who put them there, and the forms to add or remove one.
#[component]
fn Members(group_id: String, member_count: RwSignal<u64>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let group_id = StoredValue::new(group_id);
    let members = Resource::new(
        move || version.get(),
        move |_| group_members(group_id.get_value()),
    );
    let add = ServerAction::<AddGroupMember>::new();
    let remove = ServerAction::<RemoveGroupMember>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let feedback = Feedback::new();
    let changed = move |message: String| {
        feedback.ok(message);
        version.update(|v| *v += 1);
    };
    // The count in the row above follows the list (reloading the whole table would close
    // this panel and lose its message).
    Effect::new(move |_| {
        if let Some(Ok(list)) = members.get() {
            member_count.set(list.len() as u64);
        }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(())) => {
            let who = input_value(email);
            if let Some(el) = email.get() {
                el.set_value("");
            }
            changed(format!("Added {who}."));
        }
        Some(Err(err)) => feedback.error(err.detail),
        None => {}
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => changed("Removed the member.".into()),
        Some(Err(err)) => feedback.error(err.detail),
        None => {}
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        feedback.clear();
        add.dispatch(AddGroupMember {
            id: group_id.get_value(),
            email: input_value(email),
        });
    };
    view! {
        <div class="members" data-test="members">
            <form class="inline" on:submit=submit data-test="add-member">
                <input type="email" required placeholder="Add by email" aria-label="Email of the user to add"
                    node_ref=email data-test="add-member-email" />
                <button type="submit" class="secondary" disabled=move || add.pending().get()>"Add"</button>
            </form>
            <FeedbackBar feedback=feedback />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || members.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" data-test="no-members">"No members yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="grid small" data-test="members-table">
                            <thead><tr><th>"Email"</th><th>"Name"</th><th>"Added by"</th><th>"Since"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|m| member_row(m, group_id, remove, feedback)).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

fn member_row(
    member: GroupMember,
    group_id: StoredValue<String>,
    remove: ServerAction<RemoveGroupMember>,
    feedback: Feedback,
) -> impl IntoView {
    let by_sso = member.source == MembershipSource::Sso;
    let user_id = member.user_id.to_string();
    view! {
        <tr data-test="member" data-email=member.email.clone() data-source=member.source.as_str()>
            <td>{member.email.clone()}</td>
            <td>{member.name.clone()}</td>
            <td>{if by_sso {
                view! { <span class="badge pending" title=SSO_MANAGED data-test="member-source">"single sign-on"</span> }.into_any()
            } else {
                view! { <span class="badge" data-test="member-source">"an admin"</span> }.into_any()
            }}</td>
            <td><LocalTime at=member.added_at /></td>
            <td>{if by_sso {
                view! { <span class="muted small" data-test="member-managed">{SSO_MANAGED}</span> }.into_any()
            } else {
                view! {
                    <button type="button" class="link danger" data-test="member-remove"
                        on:click=move |_| {
                            feedback.clear();
                            remove.dispatch(RemoveGroupMember { id: group_id.get_value(), user_id: user_id.clone() });
                        }>
                        "Remove"
                    </button>
                }.into_any()
            }}</td>
        </tr>
    }
}
