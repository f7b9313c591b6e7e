//! `/install`: how to get the `da` CLI from this server. Public; a signed-in user can also create
//! a token for the machine they are setting up.

use crate::api::{CreateToken, install_info, signed_in_user, token_max_days};
use crate::layout::{CopyBlock, CopyField, TopBar};
use da_types::InstallInfo;
use leptos::prelude::*;
use leptos_meta::Title;

/// Lifetime of a token made here: 90 days, or the server's cap when lower.
const MACHINE_TOKEN_DAYS: i64 = 90;

#[component]
pub fn InstallPage() -> impl IntoView {
    let info = Resource::new(|| (), |_| install_info());
    let me = Resource::new(|| (), |_| signed_in_user());
    view! {
        <Title text="Install the da CLI" />
        <Suspense fallback=|| view! { <p class="muted page">"Loading…"</p> }>
            {move || me.get().and_then(|me| me.ok().flatten()).map(|me| view! { <TopBar me=me /> })}
            <main class="page">
                <h1>"Install the da CLI"</h1>
                {move || info.get().map(|result| match result {
                    Ok(info) => view! { <Instructions info=info /> }.into_any(),
                    Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
                })}
                {move || me.get().map(|me| match me {
                    Ok(Some(_)) => {
                        let server = info.get().and_then(Result::ok).and_then(|i| i.server_url);
                        view! { <MachineToken server=server /> }.into_any()
                    }
                    _ => view! {
                        <section class="card">
                            <h2>"Sign in"</h2>
                            <p>"After installing, run " <code>"da login"</code> ", or "
                                <a href="/login?next=%2Finstall" data-test="install-sign-in">"sign in here"</a>
                                " to create an access token for a script or CI job."</p>
                        </section>
                    }.into_any(),
                })}
            </main>
        </Suspense>
    }
}

#[component]
fn Instructions(info: InstallInfo) -> impl IntoView {
    let Some(server) = info.server_url else {
        return view! {
            <p class="alert" role="alert" data-test="install-no-url">
                "This server cannot tell its own URL from this request. Its admin can set "
                <code>"DA_PUBLIC_URL"</code>"."
            </p>
        }
        .into_any();
    };
    let Some(sha256) = info.cli.sha256 else {
        return view! {
            <p class="alert" role="alert" data-test="install-no-cli">
                "This server does not ship the da CLI. Its admin can put the binary in "
                <code>"DA_CLI_DIST_DIR"</code>"."
            </p>
        }
        .into_any();
    };
    let version = info.cli.version.unwrap_or_default();
    let one_liner = format!("curl -fsSL {server}/cli/install.sh | sh");
    let manual = format!(
        "curl -fsSL -o da {server}/cli/download\n\
         echo \"{sha256}  da\" | sha256sum -c -\n\
         chmod 755 da && mkdir -p ~/.local/bin && mv da ~/.local/bin/\n\
         da config set server {server}"
    );
    view! {
        <section class="card">
            <p>"Server: " <code data-test="install-server">{server.clone()}</code>
               " · CLI version " <code data-test="install-version">{version}</code></p>
            <h2>"One line"</h2>
            <p class="muted">"Downloads da, checks its SHA-256, installs it to "
                <code>"~/.local/bin"</code>" (or " <code>"$DA_INSTALL_DIR"</code>
                ") and points it at this server."</p>
            <CopyField value=one_liner test="install-one-liner" />
            <h2>"Step by step"</h2>
            <pre data-test="install-manual">{manual}</pre>
            <p class="muted">"SHA-256: " <code data-test="install-sha256">{sha256}</code></p>
        </section>
    }
    .into_any()
}

/// "Create a token for this machine": the `export DA_TOKEN=…` line, shown once.
#[component]
fn MachineToken(server: Option<String>) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let max_days = Resource::new(|| (), |_| token_max_days());
    let name = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let cap = max_days.get_untracked().and_then(Result::ok).flatten();
        let days = cap.map_or(MACHINE_TOKEN_DAYS, |cap| cap.min(MACHINE_TOKEN_DAYS));
        create.dispatch(CreateToken {
            name: name.get().map(|el| el.value()).unwrap_or_default(),
            days: Some(days),
            role: None,
        });
    };
    view! {
        <section class="card" data-test="machine-token">
            <h2>"A token for this machine"</h2>
            <p class="muted">"For scripts and CI jobs that cannot sign in. It acts as you for "
                {MACHINE_TOKEN_DAYS}" days (or this server's limit); revoke it any time under "
                <a href="/tokens">"Tokens"</a>"."</p>
            <form class="row" on:submit=submit>
                <label>"Name"<input type="text" required maxlength=da_types::validation::LABEL_MAX_CHARS value="da CLI" node_ref=name data-test="machine-token-name" /></label>
                <button type="submit" class="primary" data-test="machine-token-create" disabled=move || create.pending().get()>
                    "Create a token for this machine"
                </button>
            </form>
            {move || create.value().get().map(|result| match result {
                Ok(created) => {
                    let export = match &server {
                        Some(server) => format!("export DA_SERVER={server}\nexport DA_TOKEN={}", created.token),
                        None => format!("export DA_TOKEN={}", created.token),
                    };
                    view! {
                        <div class="notice" data-test="machine-token-created">
                            <p>"Run this on the machine; it is shown only this once:"</p>
                            <CopyBlock value=export test="machine-token-export" />
                        </div>
                    }.into_any()
                }
                Err(err) => view! { <p class="alert" role="alert">{err.detail}</p> }.into_any(),
            })}
        </section>
    }
}
