//! `/admin/datasets`: upload a Parquet or CSV file (straight to `PUT /api/datasets/{name}`,
//! with a progress bar), and per dataset its description, minimum role, grants to groups, and
//! deletion.

use crate::api::{
    DeleteDataset, GrantDataset, RevokeDataset, UpdateDataset, list_datasets, list_groups,
};
use crate::layout::{FeedbackBar, LocalTime, Page, Screen, input_value, select_value};
use da_types::{Dataset, Role, human_size};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// A dataset name suggested by a file name: `Sales 2024.parquet` → `sales_2024`.
pub fn name_from_file(file_name: &str) -> String {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    let mut name: String = stem
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '_',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert(0, 'd');
    }
    name.truncate(63);
    name
}

/// The `Content-Type` an upload goes with, from the file name (browsers know no type for
/// `.parquet`); `None` for anything else, which the server refuses in words.
pub fn upload_content_type(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "parquet" | "pq" => Some(da_types::DatasetFormat::Parquet.content_type()),
        "csv" => Some(da_types::DatasetFormat::Csv.content_type()),
        _ => None,
    }
}

#[component]
pub fn AdminDatasetsPage() -> impl IntoView {
    view! {
        <Page title="Manage datasets" admin=true>
            <AdminDatasetsScreen />
        </Page>
    }
}

#[component]
fn AdminDatasetsScreen() -> impl IntoView {
    let screen = Screen::new();
    // The datasets and every group (for the grant pickers) in one load, so the rows render
    // once per change: rows rendered twice would drop a click made in between.
    let datasets = Resource::new(
        move || screen.version.get(),
        |_| async { (list_datasets().await, all_groups().await) },
    );
    view! {
        <h1>"Manage datasets"</h1>
        <p class="muted">
            "Admins read every dataset. Others read one when their role is at least its minimum \
             role, or when it is granted to a group they are in."
        </p>
        <UploadForm screen=screen />
        <FeedbackBar feedback=screen.feedback />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || datasets.get().map(|(result, groups)| match result {
                Ok(list) if list.is_empty() => view! {
                    <p class="muted" data-test="no-datasets">"No datasets yet: upload one above."</p>
                }.into_any(),
                Ok(list) => {
                    let groups = groups.unwrap_or_default();
                    view! {
                        <div class="table-wrap">
                            <table class="grid" data-test="admin-datasets">
                                <thead><tr>
                                    <th>"Dataset"</th><th>"Size"</th><th>"Minimum role"</th>
                                    <th>"Granted to"</th><th>"Actions"</th>
                                </tr></thead>
                                {list.into_iter().map(|d| view! {
                                    <DatasetRows dataset=d groups=groups.clone() screen=screen />
                                }).collect_view()}
                            </table>
                        </div>
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// Every group as (id, name), following the server's pages.
async fn all_groups() -> Result<Vec<(String, String)>, crate::api::UiError> {
    let mut out = Vec::new();
    loop {
        let page = list_groups(None, out.len() as u64).await?;
        let got = page.groups.len();
        out.extend(page.groups.into_iter().map(|g| (g.id.to_string(), g.name)));
        if got == 0 || out.len() as u64 >= page.total {
            return Ok(out);
        }
    }
}

/// Where an upload stands (only the browser uploads).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Upload {
    Idle,
    /// Bytes sent of the total.
    Sending(f64, f64),
    /// Sent; the server is checking the file.
    Checking,
}

#[component]
fn UploadForm(screen: Screen) -> impl IntoView {
    let file = NodeRef::<leptos::html::Input>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let description = NodeRef::<leptos::html::Input>::new();
    let (state, set_state) = signal(Upload::Idle);
    let (error, set_error) = signal(None::<String>);
    // Picking a file suggests its name (an admin may still change it).
    let picked = move |_| {
        let Some(input) = file.get() else { return };
        let chosen = input.value();
        let base = chosen
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_owned();
        if let Some(field) = name.get()
            && !base.is_empty()
        {
            field.set_value(&name_from_file(&base));
        }
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        screen.feedback.clear();
        set_error.set(None);
        // Uploads happen in the browser only (the form needs the page's script).
        #[cfg(not(feature = "hydrate"))]
        let _ = set_state;
        #[cfg(feature = "hydrate")]
        {
            let Some(selected) = file
                .get()
                .and_then(|input| input.files())
                .and_then(|list| list.get(0))
            else {
                set_error.set(Some("Choose a Parquet or CSV file first.".into()));
                return;
            };
            let Some(content_type) = upload_content_type(&selected.name()) else {
                set_error.set(Some("Only .parquet and .csv files can be uploaded.".into()));
                return;
            };
            let target = input_value(name);
            if !da_types::valid_dataset_name(&target) {
                set_error.set(Some(da_types::detail::DATASET_NAME_INVALID.into()));
                return;
            }
            set_state.set(Upload::Sending(0.0, selected.size()));
            let done = move |outcome: Result<Dataset, String>| {
                set_state.set(Upload::Idle);
                match outcome {
                    Ok(dataset) => {
                        screen.feedback.ok(format!(
                            "Uploaded {}: {} rows, {} columns.",
                            dataset.name,
                            dataset.rows,
                            dataset.columns.len()
                        ));
                        for input in [file, name, description] {
                            if let Some(el) = input.get() {
                                el.set_value("");
                            }
                        }
                        screen.reload();
                    }
                    Err(message) => set_error.set(Some(message)),
                }
            };
            browser::put_file(
                &selected,
                &target,
                &input_value(description),
                content_type,
                set_state,
                done,
            );
        }
    };
    let busy = move || state.get() != Upload::Idle;
    view! {
        <form class="card" on:submit=submit data-test="upload-dataset">
            <h2>"Upload a dataset"</h2>
            <div class="row">
                <label>"File (Parquet or CSV)"
                    <input type="file" accept=".parquet,.pq,.csv" required node_ref=file on:change=picked data-test="upload-file" />
                </label>
                <label>"Name (a table name in queries)"
                    <input type="text" required pattern="[a-z][a-z0-9_]{0,62}" node_ref=name data-test="upload-name"
                        title="Lower-case letters, digits and _, starting with a letter" />
                </label>
                <label>"Description"
                    <input type="text" node_ref=description placeholder="optional" data-test="upload-description" />
                </label>
            </div>
            <p class="muted small">"Uploading to an existing name replaces its file; readers see the old file or the new, never a mix."</p>
            {move || match state.get() {
                Upload::Idle => None,
                Upload::Sending(sent, total) => Some(view! {
                    <p class="small" data-test="upload-progress">
                        <progress max=total value=sent></progress>
                        " " {format!("{} of {}", human_size(sent as u64), human_size(total as u64))}
                    </p>
                }.into_any()),
                Upload::Checking => Some(view! {
                    <p class="small muted" data-test="upload-progress">"Checking the file…"</p>
                }.into_any()),
            }}
            <Show when=move || error.get().is_some()>
                <p class="alert" role="alert" data-test="upload-error">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" class="primary" disabled=busy data-test="upload-submit">
                {move || if busy() { "Uploading…" } else { "Upload" }}
            </button>
        </form>
    }
}

/// The `<option>`s of a minimum-role picker: "nobody by role", then every role.
fn min_role_options(current: Option<Role>) -> impl IntoView {
    view! {
        <option value="" selected=current.is_none()>"— grants only"</option>
        {Role::ALL.into_iter().map(|r| view! {
            <option value=r.as_str() selected=current == Some(r) title=r.description()>{format!("{} and above", r.as_str())}</option>
        }).collect_view()}
    }
}

#[component]
fn DatasetRows(dataset: Dataset, groups: Vec<(String, String)>, screen: Screen) -> impl IntoView {
    let update = ServerAction::<UpdateDataset>::new();
    let delete = ServerAction::<DeleteDataset>::new();
    let grant = ServerAction::<GrantDataset>::new();
    let revoke = ServerAction::<RevokeDataset>::new();
    let (confirm_delete, set_confirm_delete) = signal(false);
    let (editing, set_editing) = signal(false);
    let (row_error, set_row_error) = signal(None::<String>);
    let description = NodeRef::<leptos::html::Input>::new();
    let min_role = NodeRef::<leptos::html::Select>::new();
    let group_pick = NodeRef::<leptos::html::Select>::new();
    let name = StoredValue::new(dataset.name.clone());
    let original = StoredValue::new(dataset.clone());
    let granted = dataset.groups.clone().unwrap_or_default();
    let grantable: Vec<(String, String)> = groups
        .into_iter()
        .filter(|(id, _)| !granted.iter().any(|g| g.id.to_string() == *id))
        .collect();
    let outcome = move |result: Option<Result<String, crate::api::UiError>>| match result {
        Some(Ok(message)) => {
            screen.feedback.ok(message);
            screen.reload();
        }
        Some(Err(err)) => set_row_error.set(Some(err.detail)),
        None => {}
    };
    Effect::new(move |_| {
        outcome(update.value().get().map(|r| {
            r.map(|d| {
                set_editing.set(false);
                format!("Saved {}.", d.name)
            })
        }))
    });
    Effect::new(move |_| {
        outcome(
            delete
                .value()
                .get()
                .map(|r| r.map(|()| format!("Deleted the dataset {}.", name.get_value()))),
        )
    });
    Effect::new(move |_| {
        outcome(
            grant
                .value()
                .get()
                .map(|r| r.map(|()| format!("Granted {} to the group.", name.get_value()))),
        )
    });
    Effect::new(move |_| {
        outcome(
            revoke
                .value()
                .get()
                .map(|r| r.map(|()| format!("Revoked the group's grant of {}.", name.get_value()))),
        )
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        screen.feedback.clear();
        set_row_error.set(None);
        let original = original.get_value();
        let (new_description, new_role) = (input_value(description), select_value(min_role));
        let old_role = original
            .min_role
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default();
        let request = UpdateDataset {
            name: original.name.clone(),
            description: (new_description != original.description).then_some(new_description),
            min_role: (new_role != old_role).then_some(new_role),
        };
        if request.description.is_none() && request.min_role.is_none() {
            set_editing.set(false);
            return;
        }
        update.dispatch(request);
    };
    let add_grant = move |ev: SubmitEvent| {
        ev.prevent_default();
        screen.feedback.clear();
        set_row_error.set(None);
        let group_id = select_value(group_pick);
        if !group_id.is_empty() {
            grant.dispatch(GrantDataset {
                name: name.get_value(),
                group_id,
            });
        }
    };
    let has_grantable = !grantable.is_empty();
    view! {
        <tbody data-test="admin-dataset" data-name=dataset.name.clone()>
            <tr>
                <td>
                    <strong><code>{dataset.name.clone()}</code></strong>
                    {(!dataset.description.is_empty()).then(|| view! {
                        <br /><span class="muted small" data-test="admin-dataset-description">{dataset.description.clone()}</span>
                    })}
                    <br /><span class="muted small">
                        {format!("{} · {} rows · {} columns · updated ", dataset.format.as_str(), dataset.rows, dataset.columns.len())}
                        <LocalTime at=dataset.updated_at />
                    </span>
                </td>
                <td class="small">{human_size(dataset.size_bytes)}</td>
                <td data-test="admin-dataset-min-role">{match dataset.min_role {
                    Some(role) => view! { <span class="badge" title=role.description()>{format!("{}+", role.as_str())}</span> }.into_any(),
                    None => view! { <span class="muted">"—"</span> }.into_any(),
                }}</td>
                <td class="small" data-test="admin-dataset-grants">
                    {granted.iter().map(|g| {
                        let id = g.id.to_string();
                        view! {
                            <span class="chip" data-test="grant" data-group=g.name.clone()>
                                {g.name.clone()}
                                <button type="button" class="link danger" title="Revoke this grant" aria-label=format!("Revoke the grant to {}", g.name)
                                    data-test="grant-revoke"
                                    on:click=move |_| {
                                        screen.feedback.clear();
                                        revoke.dispatch(RevokeDataset { name: name.get_value(), group_id: id.clone() });
                                    }>"×"</button>
                            </span>
                        }
                    }).collect_view()}
                    {has_grantable.then(|| view! {
                        <form class="inline" on:submit=add_grant data-test="grant-form">
                            <select node_ref=group_pick aria-label="Group to grant" data-test="grant-group">
                                {grantable.iter().map(|(id, group)| view! { <option value=id.clone()>{group.clone()}</option> }).collect_view()}
                            </select>
                            <button type="submit" class="secondary" disabled=move || grant.pending().get() data-test="grant-add">"Grant"</button>
                        </form>
                    })}
                </td>
                <td class="actions">
                    <div class="buttons">
                        <button type="button" class="link" data-test="admin-dataset-edit"
                            on:click=move |_| { set_row_error.set(None); set_editing.update(|e| *e = !*e); }>"Edit"</button>
                        <a class="link" href=format!("/api/datasets/{}/download", dataset.name) download="">"Download"</a>
                        <Show when=move || !confirm_delete.get()
                            fallback=move || view! {
                                <button type="button" class="link danger" data-test="admin-dataset-confirm-delete"
                                    on:click=move |_| { screen.feedback.clear(); delete.dispatch(DeleteDataset { name: name.get_value() }); }>
                                    "Really delete?"
                                </button>
                                <button type="button" class="link" on:click=move |_| set_confirm_delete.set(false)>"Keep"</button>
                            }>
                            <button type="button" class="link danger" data-test="admin-dataset-delete"
                                on:click=move |_| set_confirm_delete.set(true)>"Delete"</button>
                        </Show>
                    </div>
                    {move || row_error.get().map(|e| view! {
                        <p class="alert small" role="alert" data-test="admin-dataset-error">{e}</p>
                    })}
                </td>
            </tr>
            <Show when=move || editing.get()>
                <tr class="detail"><td colspan="5">
                    <form class="row" on:submit=save data-test="edit-dataset">
                        <label>"Description"
                            <input type="text" prop:value=original.get_value().description node_ref=description data-test="edit-dataset-description" />
                        </label>
                        <label>"Minimum role"
                            <select node_ref=min_role data-test="edit-dataset-min-role">{min_role_options(original.get_value().min_role)}</select>
                        </label>
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || update.pending().get() data-test="edit-dataset-save">"Save"</button>
                            <button type="button" class="secondary" on:click=move |_| set_editing.set(false)>"Cancel"</button>
                        </div>
                    </form>
                </td></tr>
            </Show>
        </tbody>
    }
}

/// The upload itself: an `XMLHttpRequest`, the one browser API that reports upload progress.
#[cfg(feature = "hydrate")]
mod browser {
    use super::{Dataset, Upload};
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{File, ProgressEvent, XmlHttpRequest};

    /// The `detail` of an error answer, or a sentence for an answer that has none.
    fn detail_of(status: u16, body: &str) -> String {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
            .unwrap_or_else(|| format!("The upload failed (HTTP {status})."))
    }

    pub fn put_file(
        file: &File,
        name: &str,
        description: &str,
        content_type: &str,
        set_state: WriteSignal<Upload>,
        done: impl Fn(Result<Dataset, String>) + 'static,
    ) {
        let fail = |message: &str| done(Err(message.to_owned()));
        let Ok(xhr) = XmlHttpRequest::new() else {
            return fail("This browser cannot upload files.");
        };
        let mut url = format!("/api/datasets/{name}");
        if !description.is_empty() {
            let encoded: String = js_sys::encode_uri_component(description).into();
            url.push_str(&format!("?description={encoded}"));
        }
        if xhr.open("PUT", &url).is_err()
            || xhr
                .set_request_header("Content-Type", content_type)
                .is_err()
        {
            return fail("This browser cannot upload files.");
        }
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if ev.loaded() >= ev.total() {
                set_state.set(Upload::Checking);
            } else {
                set_state.set(Upload::Sending(ev.loaded(), ev.total()));
            }
        });
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        let done = std::rc::Rc::new(done);
        let finished = {
            let (xhr, done) = (xhr.clone(), done.clone());
            Closure::<dyn FnMut()>::new(move || {
                let status = xhr.status().unwrap_or(0);
                let body = xhr.response_text().ok().flatten().unwrap_or_default();
                match status {
                    200 | 201 => done(
                        serde_json::from_str::<Dataset>(&body)
                            .map_err(|_| "The server's answer was not understood.".to_owned()),
                    ),
                    401 => crate::navigation::to_login_from_here(),
                    _ => done(Err(detail_of(status, &body))),
                }
            })
        };
        let broken = Closure::<dyn FnMut()>::new(move || {
            done(Err(
                "The upload failed: the connection to the server broke.".to_owned(),
            ))
        });
        xhr.set_onload(Some(finished.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(broken.as_ref().unchecked_ref()));
        if xhr.send_with_opt_blob(Some(&**file)).is_err() {
            set_state.set(Upload::Idle);
        }
        // The handlers live as long as the request, which outlives this call.
        progress.forget();
        finished.forget();
        broken.forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_suggests_a_valid_dataset_name() {
        assert_eq!(name_from_file("Sales 2024.parquet"), "sales_2024");
        assert_eq!(name_from_file("2024-orders.csv"), "d2024_orders");
        assert_eq!(name_from_file("people.CSV"), "people");
        for file in [
            "Sales 2024.parquet",
            "2024-orders.csv",
            "ÄÖ.csv",
            &"x".repeat(200),
        ] {
            assert!(
                da_types::valid_dataset_name(&name_from_file(file)),
                "{file}"
            );
        }
    }

    #[test]
    fn the_content_type_follows_the_extension() {
        assert_eq!(
            upload_content_type("a.parquet"),
            Some("application/vnd.apache.parquet")
        );
        assert_eq!(upload_content_type("a.CSV"), Some("text/csv"));
        assert_eq!(upload_content_type("a.xlsx"), None);
        assert_eq!(upload_content_type("parquet"), None);
    }
}
