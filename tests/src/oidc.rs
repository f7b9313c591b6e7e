//! A real OpenID provider for the tests (`end2end/oidc/provider.mjs`: the `oidc-provider` npm
//! package) or a misbehaving one (`end2end/oidc/rogue.mjs`), a da-server configured for it, and
//! a browser-like client that walks the sign-in with its own cookie jar.

use crate::{TestServer, TestServerBuilder};
use reqwest::Url;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const CLIENT_ID: &str = "da-tests";
pub const CLIENT_SECRET: &str = "da-tests-client-secret-0123456789";

fn script(name: &str) -> PathBuf {
    let dir = crate::tests_dir().join("../end2end");
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "the OpenID provider package is missing: run `./dev setup` (npm ci in end2end/)"
    );
    dir.join("oidc").join(name)
}

/// A provider process; stopped when dropped.
pub struct Provider {
    _child: Child,
    pub issuer: String,
}

impl Provider {
    /// Starts `script` with `config` (see the scripts' headers) and waits for its start line.
    pub async fn start(script_name: &str, config: &serde_json::Value) -> Provider {
        let mut child = Command::new("node")
            .arg(script(script_name))
            .env("OIDC_CONFIG", config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Node 20 or later)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("oidc-provider listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("the OpenID provider exited before it listened");
        })
        .await
        .expect("the OpenID provider starts within 30 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Provider {
            _child: child,
            issuer,
        }
    }
}

impl Provider {
    /// Replaces the claims of `login` (`provider.mjs` only): the same person, say, in other
    /// groups at the next sign-in.
    pub async fn set_account(&self, login: &str, claims: serde_json::Value) {
        let status = reqwest::Client::new()
            .put(format!("{}/test/accounts/{login}", self.issuer))
            .json(&claims)
            .send()
            .await
            .expect("the provider answers")
            .status();
        assert_eq!(status, 204, "the provider took the account");
    }
}

/// A free loopback port, for a server whose public URL must be known before it starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A provider and a da-server that signs in through it.
pub struct SsoServer {
    pub server: TestServer,
    pub provider: Provider,
}

/// What to start: the provider's accounts and behaviour, and extra server settings.
pub struct SsoSetup {
    pub script: &'static str,
    pub accounts: serde_json::Value,
    pub provider: serde_json::Map<String, serde_json::Value>,
    pub server_env: Vec<(String, String)>,
}

impl SsoSetup {
    pub fn new(accounts: serde_json::Value) -> SsoSetup {
        SsoSetup {
            script: "provider.mjs",
            accounts,
            provider: serde_json::Map::new(),
            server_env: Vec::new(),
        }
    }

    /// The misbehaving provider, doing `mode` (see `rogue.mjs`).
    pub fn rogue(mode: &str) -> SsoSetup {
        let mut setup = SsoSetup::new(serde_json::json!({}));
        setup.script = "rogue.mjs";
        setup.provider.insert("mode".into(), mode.into());
        setup
    }

    pub fn provider_option(mut self, key: &str, value: serde_json::Value) -> SsoSetup {
        self.provider.insert(key.into(), value);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> SsoSetup {
        self.server_env.push((key.into(), value.into()));
        self
    }

    pub async fn start(self) -> SsoServer {
        self.start_with(TestServer::builder).await
    }

    /// Starts both; the server's port is chosen first (the provider must know the redirect
    /// URI), and chosen again should another process take it in between.
    pub async fn start_with(self, builder: impl Fn() -> TestServerBuilder) -> SsoServer {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let public_url = format!("http://127.0.0.1:{port}");
            let mut config = self.provider.clone();
            config.insert("clientId".into(), CLIENT_ID.into());
            config.insert("clientSecret".into(), CLIENT_SECRET.into());
            config.insert(
                "redirectUri".into(),
                format!("{public_url}/auth/oidc/callback").into(),
            );
            config.insert("accounts".into(), self.accounts.clone());
            let provider = Provider::start(self.script, &config.into()).await;
            let mut server = builder()
                .env("DA_BIND", &format!("127.0.0.1:{port}"))
                .env("DA_PUBLIC_URL", &public_url)
                .env("DA_OIDC_ISSUER", &provider.issuer)
                .env("DA_OIDC_CLIENT_ID", CLIENT_ID)
                .env("DA_OIDC_CLIENT_SECRET", CLIENT_SECRET)
                .env("DA_OIDC_NAME", "Test IdP");
            for (key, value) in &self.server_env {
                server = server.env(key, value);
            }
            match server.try_start().await {
                Ok(server) => return SsoServer { server, provider },
                Err(err) => last_error = err,
            }
        }
        panic!("da-server with single sign-on did not start: {last_error}");
    }
}

/// A browser, as far as the sign-in needs one: it follows no redirect by itself and keeps
/// cookies by name (browsers share them across the ports of one host, as here).
pub struct Browser {
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn forget_cookie(&self, name: &str) {
        self.cookies.lock().unwrap().remove(name);
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut jar = self.cookies.lock().unwrap();
        for value in response.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = text.to_ascii_lowercase().contains("max-age=0")
                || text
                    .to_ascii_lowercase()
                    .contains("expires=thu, 01 jan 1970");
            if expired || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        let response = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep_cookies(&response);
        response
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("POST");
        self.keep_cookies(&response);
        response
    }

    /// Opens da's `/auth/oidc/login` (with `next`), signs in at the provider's login form as
    /// `login`, and returns the callback URL the provider sent the browser to, unvisited.
    pub async fn sign_in_at_provider(
        &self,
        server: &TestServer,
        login: &str,
        next: Option<&str>,
    ) -> String {
        let start = match next {
            Some(next) => server.url(&format!("/auth/oidc/login?next={}", url_encode(next))),
            None => server.url("/auth/oidc/login"),
        };
        let mut url = start;
        let callback_prefix = server.url("/auth/oidc/callback");
        for _ in 0..20 {
            if url.starts_with(&callback_prefix) {
                return url;
            }
            let response = self.get(&url).await;
            let status = response.status();
            let base = Url::parse(&url).expect("a URL");
            if status.is_redirection() {
                let location = response.headers()["location"].to_str().unwrap().to_owned();
                url = base.join(&location).expect("a location").to_string();
                continue;
            }
            let html = response.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "{url} answered {status}: {}",
                html.chars().take(800).collect::<String>()
            );
            let action = form_action(&html)
                .unwrap_or_else(|| panic!("no form on {url}: {}", &html[..html.len().min(800)]));
            let submit = base.join(&action).expect("a form action").to_string();
            let response = if html.contains(r#"name="login""#) {
                self.post_form(
                    &submit,
                    &[("prompt", "login"), ("login", login), ("password", "any")],
                )
                .await
            } else {
                self.post_form(&submit, &[("prompt", "consent")]).await
            };
            assert!(
                response.status().is_redirection(),
                "submitting {submit} answered {}",
                response.status()
            );
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            url = Url::parse(&submit)
                .unwrap()
                .join(&location)
                .unwrap()
                .to_string();
        }
        panic!("the sign-in did not come back to da");
    }

    /// Visits da's callback; returns the status and `Location`.
    pub async fn visit(&self, url: &str) -> (u16, String) {
        let response = self.get(url).await;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (response.status().as_u16(), location)
    }

    /// The whole sign-in: provider, then callback. Returns where da sent the browser.
    pub async fn sign_in(&self, server: &TestServer, login: &str, next: Option<&str>) -> String {
        let url = self.sign_in_at_provider(server, login, next).await;
        let (status, location) = self.visit(&url).await;
        assert_eq!(status, 302, "the callback answers with a redirect");
        location
    }

    /// The session the browser holds, as a typed client.
    pub fn session(&self, server: &TestServer) -> Option<da_client::Client> {
        self.cookie(da_types::SESSION_COOKIE)
            .map(|jwt| server.client().with_token(jwt))
    }
}

fn url_encode(text: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", text)])
        .unwrap()
        .query()
        .unwrap()
        .trim_start_matches("v=")
        .to_owned()
}

/// The `action` of the first form in `html`, entity-decoded.
fn form_action(html: &str) -> Option<String> {
    let start = html.find("<form")?;
    let rest = &html[start..];
    let at = rest.find("action=\"")? + "action=\"".len();
    let end = rest[at..].find('"')?;
    Some(
        rest[at..at + end]
            .replace("&amp;", "&")
            .replace("&#x2F;", "/"),
    )
}
