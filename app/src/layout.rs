//! The frame of every signed-in page — the top bar with navigation (the current page marked,
//! admin links for admins only), the 403 page for non-admins on admin pages — and the small
//! widgets every screen shares: feedback messages, local times, debounced filters, copy fields.

use crate::api::{Logout, get_me};
use chrono::{DateTime, Utc};
use da_types::{MeResponse, Role};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

pub use crate::navigation::go_to;

/// `2026-11-22 17:04 UTC`, or a dash.
pub fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "—".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// `1 user`, `2 users`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A moment to the second: rendered in UTC on the server, turned into the reader's local time
/// once the page runs in the browser; the UTC value stays on hover.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let utc = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let node = NodeRef::<leptos::html::Time>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
                at.timestamp_millis() as f64
            ));
            let options = js_sys::Object::new();
            for (key, value) in [
                ("year", "numeric"),
                ("month", "short"),
                ("day", "numeric"),
                ("hour", "2-digit"),
                ("minute", "2-digit"),
                ("second", "2-digit"),
            ] {
                let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
            }
            el.set_text_content(Some(&String::from(
                date.to_locale_string("default", &options),
            )));
        }
    });
    let title = utc.clone();
    view! {
        <time datetime=at.to_rfc3339() title=title node_ref=node>{utc}</time>
    }
}

/// What the last action on a screen came to: a success in words, or an error. Cleared when
/// the next action starts.
#[derive(Clone, Copy)]
pub struct Feedback(RwSignal<Option<Result<String, String>>>);

impl Feedback {
    pub fn new() -> Feedback {
        Feedback(RwSignal::new(None))
    }

    pub fn ok(&self, message: impl Into<String>) {
        self.0.set(Some(Ok(message.into())));
    }

    pub fn error(&self, message: impl Into<String>) {
        self.0.set(Some(Err(message.into())));
    }

    pub fn clear(&self) {
        self.0.set(None);
    }

    /// Shows `Ok` as a success and `Err` as an error (an action's result).
    pub fn show(&self, result: Result<String, String>) {
        self.0.set(Some(result));
    }
}

impl Default for Feedback {
    fn default() -> Self {
        Feedback::new()
    }
}

/// What an input holds now (empty before it is mounted).
pub fn input_value(node: NodeRef<leptos::html::Input>) -> String {
    node.get().map(|el| el.value()).unwrap_or_default()
}

/// What a text area holds now.
pub fn textarea_value(node: NodeRef<leptos::html::Textarea>) -> String {
    node.get().map(|el| el.value()).unwrap_or_default()
}

/// The value of a select's chosen option.
pub fn select_value(node: NodeRef<leptos::html::Select>) -> String {
    node.get().map(|el| el.value()).unwrap_or_default()
}

/// What the parts of an admin screen share: where messages go, and how to reload its list
/// (a resource keyed on `version`).
#[derive(Clone, Copy)]
pub struct Screen {
    pub feedback: Feedback,
    pub version: RwSignal<u32>,
}

impl Screen {
    pub fn new() -> Screen {
        Screen {
            feedback: Feedback::new(),
            version: RwSignal::new(0),
        }
    }

    pub fn reload(&self) {
        self.version.update(|v| *v += 1);
    }
}

impl Default for Screen {
    fn default() -> Self {
        Screen::new()
    }
}

/// Where a [`Feedback`] is shown.
#[component]
pub fn FeedbackBar(feedback: Feedback) -> impl IntoView {
    move || {
        feedback.0.get().map(|message| match message {
            Ok(text) => {
                view! { <p class="ok" role="status" data-test="feedback-ok">{text}</p> }.into_any()
            }
            Err(text) => {
                view! { <p class="alert" role="alert" data-test="feedback-error">{text}</p> }
                    .into_any()
            }
        })
    }
}

/// An input handler that passes the field's value to `apply` once typing has paused for
/// 250 ms: filters follow what is typed without a request per key.
pub fn debounced(apply: impl Fn(String) + Clone + 'static) -> impl Fn(leptos::ev::Event) + 'static {
    // Thread-safe storage: the handler is also built while the page renders on the server.
    let pending = StoredValue::new(None::<leptos::leptos_dom::helpers::TimeoutHandle>);
    move |ev| {
        let value = event_target_value(&ev);
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let apply = apply.clone();
        let handle = leptos::leptos_dom::helpers::set_timeout_with_handle(
            move || apply(value),
            std::time::Duration::from_millis(250),
        )
        .ok();
        pending.set_value(handle);
    }
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
                Ok(me) if admin && me.effective_role != Role::Admin => {
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

/// A navigation link, marked when it is the page being shown.
#[component]
fn NavLink(href: &'static str, label: &'static str, test: &'static str) -> impl IntoView {
    let location = use_location();
    let current = move || location.pathname.get() == href;
    view! {
        <a href=href data-test=test class:current=current
            aria-current=move || current().then_some("page")>{label}</a>
    }
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
    let is_admin = me.effective_role == Role::Admin;
    view! {
        <header class="topbar">
            <nav class="nav" aria-label="Main">
                <a class="brand" href="/">"da"</a>
                <NavLink href="/" label="Dashboard" test="nav-dashboard" />
                <NavLink href="/datasets" label="Datasets" test="nav-datasets" />
                <NavLink href="/query" label="Query" test="nav-query" />
                <NavLink href="/tokens" label="Tokens" test="nav-tokens" />
                <NavLink href="/profile" label="Profile" test="nav-profile" />
                <NavLink href="/install" label="Get the CLI" test="nav-install" />
                <Show when=move || is_admin>
                    <NavLink href="/admin/users" label="Users" test="nav-admin-users" />
                    <NavLink href="/admin/groups" label="Groups" test="nav-admin-groups" />
                    <NavLink href="/admin/datasets" label="Manage datasets" test="nav-admin-datasets" />
                    <NavLink href="/admin/tokens" label="All tokens" test="nav-admin-tokens" />
                    <NavLink href="/admin/audit" label="Audit log" test="nav-admin-audit" />
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

/// Puts `text` on the clipboard, where the browser offers one (secure contexts only); says
/// what happened, for the button's label.
fn copy_to_clipboard(text: &str) -> bool {
    if window().is_secure_context() {
        let _ = window().navigator().clipboard().write_text(text);
        true
    } else {
        false
    }
}

/// "Previous" / "Next" under a paged table, with "51–61 of 61 users". `offset` is the offset
/// the rows shown were fetched with (not the one asked for since), so text and buttons always
/// describe the rows on screen.
#[component]
pub fn Pager(
    offset: u64,
    shown: u64,
    total: u64,
    one: &'static str,
    many: &'static str,
    test: &'static str,
    set_offset: WriteSignal<u64>,
) -> impl IntoView {
    let page = u64::from(da_types::paging::UI_PAGE);
    let label = if shown < total {
        format!(
            "{}–{} of {}",
            offset + 1,
            offset + shown,
            count(total, one, many)
        )
    } else {
        count(total, one, many)
    };
    let has_previous = offset > 0;
    let has_next = offset + page < total;
    view! {
        <div class="pager">
            <span class="muted" data-test=test>{label}</span>
            <button type="button" class="secondary" data-test="page-previous" disabled=!has_previous
                on:click=move |_| set_offset.set(offset.saturating_sub(page))>
                "Previous"
            </button>
            <button type="button" class="secondary" data-test="page-next" disabled=!has_next
                on:click=move |_| set_offset.set(offset + page)>
                "Next"
            </button>
        </div>
    }
}

/// A read-only field with a button that copies its value. The clipboard API exists only in
/// secure contexts (https or localhost); elsewhere the text is selected for Ctrl+C instead.
/// With `focus`, the field takes the keyboard focus when it appears (a secret just revealed).
#[component]
pub fn CopyField(
    #[prop(into)] value: String,
    #[prop(into)] test: String,
    #[prop(optional)] focus: bool,
) -> impl IntoView {
    let (label, set_label) = signal("Copy");
    let field = NodeRef::<leptos::html::Input>::new();
    let text = value.clone();
    let copy = move |_| {
        if copy_to_clipboard(&text) {
            set_label.set("Copied");
        } else if let Some(input) = field.get() {
            input.select();
            set_label.set("Selected: press Ctrl+C");
        }
    };
    Effect::new(move |_| {
        if focus && let Some(input) = field.get() {
            focus_when_mounted(input, 20);
        }
    });
    view! {
        <div class="copy-field">
            <input type="text" readonly prop:value=value node_ref=field data-test=test />
            <button type="button" class="secondary" on:click=copy>{move || label.get()}</button>
        </div>
    }
}

/// Focuses (and selects) `input` once it is in the document; a view is built before it is
/// mounted, so this waits a few frames for that.
fn focus_when_mounted(input: web_sys::HtmlInputElement, tries: u32) {
    request_animation_frame(move || {
        if input.is_connected() {
            let _ = input.focus();
            input.select();
        } else if tries > 0 {
            focus_when_mounted(input, tries - 1);
        }
    });
}

/// A `<textarea>`-like block of several lines with one copy button (e.g. two `export` lines).
#[component]
pub fn CopyBlock(#[prop(into)] value: String, #[prop(into)] test: String) -> impl IntoView {
    let (label, set_label) = signal("Copy");
    let text = value.clone();
    let copy = move |_| {
        set_label.set(if copy_to_clipboard(&text) {
            "Copied"
        } else {
            "Select the text and press Ctrl+C"
        });
    };
    view! {
        <div class="copy-block">
            <pre data-test=test>{value}</pre>
            <button type="button" class="secondary" on:click=copy>{move || label.get()}</button>
        </div>
    }
}

/// A user's own role, and the one in force when their groups (or a token) make it differ.
#[component]
pub fn RoleInForce(own: Role, effective: Role, #[prop(into)] test: String) -> impl IntoView {
    view! {
        <span class="badge" data-test=test.clone()>{own.as_str()}</span>
        " " <RoleRaised own=own effective=effective test=format!("{test}-effective") />
    }
}

/// "→ analyst through groups" when the role in force is not the own role; nothing otherwise.
#[component]
pub fn RoleRaised(own: Role, effective: Role, #[prop(into)] test: String) -> impl IntoView {
    (effective != own).then(|| {
        view! {
            <span class="muted small role-raised" data-test=test
                title="The highest of the own role and the roles of the user's groups">
                {format!("→ {effective} through groups")}
            </span>
        }
    })
}

/// The roles with what each may do, for where a role is picked.
#[component]
pub fn RoleHelp() -> impl IntoView {
    view! {
        <details class="role-help" data-test="role-help">
            <summary>"What the roles may do"</summary>
            <dl class="facts">
                {Role::ALL.into_iter().map(|role| view! {
                    <dt><span class="badge">{role.as_str()}</span></dt>
                    <dd>{role.description()}</dd>
                }).collect_view()}
            </dl>
        </details>
    }
}
