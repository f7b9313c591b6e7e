//! `/device?code=`: approving or denying a CLI's sign-in request (`API.md` §13). The page shows
//! what asks (the client's name, its address, when) so that a person approves only what they
//! started themselves.

use crate::api::{DecideDevice, device_request};
use crate::layout::{Page, input_value};
use da_types::DeviceRequestInfo;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DevicePage() -> impl IntoView {
    view! {
        <Page title="Sign in a device">
            <DeviceApproval />
        </Page>
    }
}

#[component]
fn DeviceApproval() -> impl IntoView {
    let query = use_query_map();
    let (code, set_code) = signal(query.read_untracked().get("code").unwrap_or_default());
    let request = Resource::new(
        move || code.get(),
        |code| async move {
            match code.trim().is_empty() {
                true => Ok(None),
                false => device_request(code).await.map(Some),
            }
        },
    );
    let decide = ServerAction::<DecideDevice>::new();
    view! {
        <h1>"Sign in a device"</h1>
        {move || match decide.value().get() {
            Some(Ok(true)) => view! {
                <section class="card" data-test="device-approved">
                    <p class="ok" role="status">"Approved. The device is signing in now; you can close this page."</p>
                </section>
            }.into_any(),
            Some(Ok(false)) => view! {
                <section class="card" data-test="device-denied">
                    <p class="ok" role="status">"Denied. The device was not signed in."</p>
                </section>
            }.into_any(),
            Some(Err(err)) => view! {
                <section class="card">
                    <p class="alert" role="alert" data-test="device-error">{err.detail}</p>
                    <CodeForm set_code=set_code />
                </section>
            }.into_any(),
            None => view! {
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || request.get().map(|result| match result {
                        Ok(Some(info)) => view! { <Decision info=info decide=decide /> }.into_any(),
                        Ok(None) => view! { <section class="card"><CodeForm set_code=set_code /></section> }.into_any(),
                        Err(err) => view! {
                            <section class="card">
                                <p class="alert" role="alert" data-test="device-error">{err.detail}</p>
                                <CodeForm set_code=set_code />
                            </section>
                        }.into_any(),
                    })}
                </Suspense>
            }.into_any(),
        }}
    }
}

/// Asks for the code the terminal shows.
#[component]
fn CodeForm(set_code: WriteSignal<String>) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        set_code.set(input_value(input));
    };
    view! {
        <form class="stack" on:submit=submit data-test="device-code-form">
            <label for="device-code">"The code your terminal shows"</label>
            <input id="device-code" name="code" placeholder="XXXX-XXXX" autocomplete="off"
                autocapitalize="characters" spellcheck="false" required node_ref=input
                class="device-code-input" />
            <button type="submit" class="primary">"Continue"</button>
        </form>
    }
}

#[component]
fn Decision(info: DeviceRequestInfo, decide: ServerAction<DecideDevice>) -> impl IntoView {
    let code = StoredValue::new(info.user_code.clone());
    let requested = info
        .requested_at
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    let expires = info.expires_at.format("%H:%M:%S UTC").to_string();
    view! {
        <section class="card" data-test="device-request">
            <p>"A program asks to sign in to da as you. Approve only if you started it yourself \
                just now and the code below is the one your terminal shows."</p>
            <dl class="facts">
                <dt>"Code"</dt><dd><code class="device-code" data-test="device-user-code">{info.user_code.clone()}</code></dd>
                <dt>"Program"</dt><dd data-test="device-client">{info.client_name.clone()}</dd>
                <dt>"From"</dt><dd data-test="device-ip">{info.ip.clone().unwrap_or_else(|| "unknown address".into())}</dd>
                <dt>"Asked at"</dt><dd>{requested}</dd>
                <dt>"Expires at"</dt><dd>{expires}</dd>
            </dl>
            <div class="device-actions">
                <button class="primary" data-test="device-approve" disabled=move || decide.pending().get()
                    on:click=move |_| { decide.dispatch(DecideDevice { user_code: code.get_value(), approve: true }); }>
                    "Approve"
                </button>
                <button class="secondary danger" data-test="device-deny" disabled=move || decide.pending().get()
                    on:click=move |_| { decide.dispatch(DecideDevice { user_code: code.get_value(), approve: false }); }>
                    "Deny"
                </button>
            </div>
        </section>
    }
}
