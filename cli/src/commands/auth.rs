//! `da login`, `da logout`, `da health` and `da auth …`.

use crate::context::{Context, CredentialSource, ServerSource, Session, env_value};
use crate::error::{CliError, Exit};
use crate::output::{Table, date, maybe_relative, print_json, relative};
use crate::prompt;
use crate::settings::{Config, CredentialKind, Credentials, StoredCredential};
use chrono::{DateTime, Utc};
use da_types::{CreateTokenRequest, TokenItem, TokenStatus};
use serde::Serialize;

pub async fn health(ctx: &Context) -> Result<(), CliError> {
    let (server, _) = ctx.server()?;
    let health = ctx
        .anonymous(&server)?
        .health()
        .await
        .map_err(|e| CliError::from_client(e, &server))?;
    if ctx.json {
        return print_json(&health);
    }
    outln!("{server}: {}", health.status);
    Ok(())
}

/// How `da login` signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// Ask: an email signs in with a password, nothing signs in with a browser.
    Ask,
    Password {
        stdin: bool,
    },
    Device,
}

pub async fn login(
    ctx: &Context,
    email: Option<String>,
    method: LoginMethod,
) -> Result<(), CliError> {
    let (server, source) = ctx.server()?;
    let client = ctx.anonymous(&server)?;
    let method = match (method, &email) {
        (LoginMethod::Ask, Some(_)) => LoginMethod::Password { stdin: false },
        (method, _) => method,
    };
    let token = match method {
        LoginMethod::Device => device_login(ctx, &client, &server).await?,
        LoginMethod::Ask => {
            if !prompt::stdin_is_terminal() {
                return Err(
                    CliError::usage("there is no terminal to ask how to sign in").with_hint(
                        "use `da login --device`, or `da login --email E --password-stdin`",
                    ),
                );
            }
            match prompt::line("Email (or press Enter to sign in with a browser): ")? {
                email if email.is_empty() => device_login(ctx, &client, &server).await?,
                email => password_login(&client, &server, &email, false).await?,
            }
        }
        LoginMethod::Password { stdin } => {
            let email = match email {
                Some(email) => email,
                None => prompt::line("Email: ")?,
            };
            password_login(&client, &server, &email, stdin).await?
        }
    };

    // Under the lock: a `da` refreshing at this moment must not write back what it read.
    let lock = crate::settings::CredentialsLock::acquire(&ctx.paths)?;
    let mut credentials = Credentials::load(&ctx.paths)?;
    credentials.set(
        &server,
        StoredCredential {
            kind: CredentialKind::Session,
            token: token.access_token.clone(),
            email: token.email.clone(),
            expires_at: Some(token.expires_at),
            refresh_token: token.refresh_token.clone(),
        },
    );
    credentials.save(&ctx.paths)?;
    drop(lock);
    // A server named on the command line becomes the default only once it has worked.
    let mut config = Config::load(&ctx.paths)?;
    if source == ServerSource::Flag || config.server().is_none() {
        config.set_server(&server);
        config.save(&ctx.paths)?;
    }
    if env_value("DA_TOKEN").is_some() {
        eprintln!(
            "da: note: DA_TOKEN is set and takes precedence over this login until you unset it"
        );
    }
    if ctx.json {
        return print_json(&serde_json::json!({
            "server": server,
            "email": token.email,
            "role": token.role,
            "expires_at": token.expires_at,
        }));
    }
    outln!("Logged in to {server} as {} ({})", token.email, token.role);
    Ok(())
}

async fn password_login(
    client: &da_client::Client,
    server: &str,
    email: &str,
    stdin: bool,
) -> Result<da_types::TokenResponse, CliError> {
    let password = if stdin {
        prompt::read_stdin("password")?
    } else {
        prompt::secret(&format!("Password for {email}: "), "--password-stdin")?
    };
    client
        .login_as(email, &password, da_types::LoginClient::Cli)
        .await
        .map_err(|e| CliError::from_client(e, server))
}

/// This machine's name, for the approval page ("da CLI on build-07").
fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// The device authorization grant: show the code and where to enter it, then poll at the
/// server's interval (slower when told to) until the request is approved, denied or expires.
async fn device_login(
    ctx: &Context,
    client: &da_client::Client,
    server: &str,
) -> Result<da_types::TokenResponse, CliError> {
    use da_client::ClientError;
    use da_types::DeviceGrantError;
    let client_name = host_name().map(|host| format!("da CLI on {host}"));
    let grant = client
        .device_code(client_name.as_deref())
        .await
        .map_err(|e| CliError::from_client(e, server))?;
    if ctx.json {
        eprintln!(
            "{}",
            serde_json::json!({
                "verification_uri": grant.verification_uri,
                "verification_uri_complete": grant.verification_uri_complete,
                "user_code": grant.user_code,
                "expires_in": grant.expires_in,
            })
        );
    } else {
        eprintln!("To sign in, open this page in a browser where you are signed in to da:\n");
        eprintln!("    {}\n", grant.verification_uri_complete);
        eprintln!(
            "and check that it shows the code {} (or open {} and enter it).",
            grant.user_code, grant.verification_uri
        );
        eprintln!(
            "Waiting for approval (the code expires in {} minutes)...",
            grant.expires_in / 60
        );
    }
    let mut interval = grant.interval.max(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(grant.expires_in);
    let mut transport_failures = 0;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
        let error = match client.device_token(&grant.device_code).await {
            Ok(token) => return Ok(token),
            Err(err) => err,
        };
        let answer = match &error {
            ClientError::Api { error, .. } => DeviceGrantError::from_code(error.code),
            _ => None,
        };
        match answer {
            Some(DeviceGrantError::AuthorizationPending) => {}
            Some(DeviceGrantError::SlowDown) => interval += da_types::DEVICE_SLOW_DOWN_SECONDS,
            Some(DeviceGrantError::AccessDenied) => {
                return Err(CliError::auth(
                    "the sign-in request was denied in the browser",
                ));
            }
            Some(DeviceGrantError::ExpiredToken) => {
                return Err(
                    CliError::auth("the sign-in code expired before it was approved")
                        .with_hint("run `da login` again"),
                );
            }
            // The network may blink while a person finds their browser: keep trying a while.
            None if matches!(error, ClientError::Transport(_)) && transport_failures < 5 => {
                transport_failures += 1;
            }
            None => return Err(CliError::from_client(error, server)),
        }
        if std::time::Instant::now() >= deadline {
            return Err(
                CliError::auth("the sign-in code expired before it was approved")
                    .with_hint("run `da login` again"),
            );
        }
    }
}

pub async fn logout(ctx: &Context) -> Result<(), CliError> {
    let (server, _) = ctx.server()?;
    let anonymous = ctx.anonymous(&server)?;
    let Some(mut stored) = Credentials::load(&ctx.paths)?.get(&server).cloned() else {
        return Err(CliError::failure(format!("not logged in to {server}")));
    };
    // An expired access token cannot end its session: refresh it first. A session that
    // cannot be refreshed is over already (and forgotten by `refreshed`).
    if crate::context::needs_refresh(&stored) {
        match ctx.refreshed(&server, &anonymous).await {
            Ok(fresh) => stored = fresh,
            Err(err) if err.status == Some(401) || err.exit == Exit::Auth => {
                eprintln!("Logged out of {server} ({})", stored.email);
                return Ok(());
            }
            Err(err) => return Err(err),
        }
    }
    {
        let _lock = crate::settings::CredentialsLock::acquire(&ctx.paths)?;
        let mut credentials = Credentials::load(&ctx.paths)?;
        credentials.remove(&server);
        credentials.save(&ctx.paths)?;
    }
    match stored.kind {
        CredentialKind::Session => {
            let client = anonymous.with_token(stored.token);
            match client.logout().await {
                // Already revoked or expired: the goal is reached.
                Ok(()) | Err(da_client::ClientError::Api { status: 401, .. }) => {}
                Err(err) => {
                    let until = stored.expires_at.map(date).unwrap_or_default();
                    return Err(CliError::from_client(err, &server).with_hint(format!(
                        "the credential was deleted here, but the session could not be revoked on the server; it stays valid until {until}"
                    )));
                }
            }
            eprintln!("Logged out of {server} ({})", stored.email);
        }
        CredentialKind::Pat => eprintln!(
            "Forgot the token for {server} ({}); it stays valid until it expires or is revoked (`da auth token revoke`)",
            stored.email
        ),
    }
    Ok(())
}

#[derive(Serialize)]
struct Whoami<'a> {
    id: uuid::Uuid,
    email: &'a str,
    name: &'a str,
    role: da_types::Role,
    effective_role: da_types::Role,
    groups: Vec<&'a str>,
    server: &'a str,
    credential: WhoamiCredential,
}

#[derive(Serialize)]
struct WhoamiCredential {
    kind: &'static str,
    source: &'static str,
    token_id: Option<uuid::Uuid>,
    expires_at: Option<DateTime<Utc>>,
}

pub async fn whoami(ctx: &Context) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let me = session.client.me().await.map_err(|e| session.explain(e))?;
    let kind = CredentialKind::from_api(me.credential.kind);
    let source = match session.source {
        CredentialSource::Flag => "flag",
        CredentialSource::Env => "env",
        CredentialSource::Stored(_) => "stored",
    };
    // The server states a PAT's expiry; a session's is what login stored.
    let expires_at = me.credential.expires_at.or(session.stored_expires_at);
    if ctx.json {
        return print_json(&Whoami {
            id: me.id,
            email: &me.email,
            name: &me.name,
            role: me.role,
            effective_role: me.effective_role,
            groups: me.groups.iter().map(|g| g.name.as_str()).collect(),
            server: &session.server,
            credential: WhoamiCredential {
                kind: match kind {
                    CredentialKind::Session => "session",
                    CredentialKind::Pat => "pat",
                },
                source,
                token_id: me.credential.token_id,
                expires_at,
            },
        });
    }
    let mut table = Table::new(&["", ""]);
    table.row(vec!["email:".into(), me.email.clone()]);
    table.row(vec!["name:".into(), me.name.clone()]);
    table.row(vec![
        "role:".into(),
        crate::output::role_in_force(me.role, me.effective_role),
    ]);
    if !me.groups.is_empty() {
        let names: Vec<&str> = me.groups.iter().map(|g| g.name.as_str()).collect();
        table.row(vec!["groups:".into(), names.join(", ")]);
    }
    table.row(vec!["server:".into(), session.server.clone()]);
    table.row(vec![
        "credential:".into(),
        format!("{} ({})", kind.describe(), session.source.describe()),
    ]);
    table.row(vec![
        "expires:".into(),
        expires_at.map_or_else(
            || "never".to_owned(),
            |at| format!("{} ({})", date(at), relative(at)),
        ),
    ]);
    crate::output::emit(table.render().trim_start());
    Ok(())
}

pub async fn import_token(ctx: &Context) -> Result<(), CliError> {
    let (server, source) = ctx.server()?;
    let token = match ctx.token_flag() {
        Some(token) => token.to_owned(),
        None if prompt::stdin_is_terminal() => prompt::secret("Token: ", "stdin")?,
        None => prompt::read_stdin("token")?,
    };
    let token = token.trim().to_owned();
    // Verify first: a token that does not work never replaces one that does.
    let me = ctx
        .anonymous(&server)?
        .with_token(token.clone())
        .me()
        .await
        .map_err(|e| {
            CliError::from_client(e, &server)
                .with_hint("the token was not saved; the stored credential is unchanged")
        })?;
    let kind = CredentialKind::from_api(me.credential.kind);
    let _lock = crate::settings::CredentialsLock::acquire(&ctx.paths)?;
    let mut credentials = Credentials::load(&ctx.paths)?;
    credentials.set(
        &server,
        StoredCredential {
            kind,
            token,
            email: me.email.clone(),
            expires_at: me.credential.expires_at,
            refresh_token: None,
        },
    );
    credentials.save(&ctx.paths)?;
    let mut config = Config::load(&ctx.paths)?;
    if source == ServerSource::Flag || config.server().is_none() {
        config.set_server(&server);
        config.save(&ctx.paths)?;
    }
    if ctx.json {
        return print_json(&serde_json::json!({
            "server": server,
            "email": me.email,
            "role": me.role,
            "effective_role": me.effective_role,
            "kind": kind,
            "expires_at": me.credential.expires_at,
        }));
    }
    let expiry = me.credential.expires_at.map_or_else(
        || "never expires".to_owned(),
        |at| format!("expires {}", date(at)),
    );
    outln!(
        "Saved a {} for {} ({}) on {server}; it {expiry}",
        kind.describe(),
        me.email,
        crate::output::role_in_force(me.role, me.effective_role)
    );
    Ok(())
}

/// A token lifetime from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    Days(u64),
    Seconds(u64),
    Never,
}

/// `30d`, `2w`, `12h`, `45m` or `never`; a bare number is days.
pub fn parse_ttl(raw: &str) -> Result<Ttl, String> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw == "never" {
        return Ok(Ttl::Never);
    }
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let count: u64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected e.g. 30d, 12h or never, got {raw:?}"))?;
    let overflow = || format!("{raw:?} is too long");
    match unit {
        "" | "d" => Ok(Ttl::Days(count)),
        "w" => count.checked_mul(7).map(Ttl::Days).ok_or_else(overflow),
        "h" => count
            .checked_mul(3600)
            .map(Ttl::Seconds)
            .ok_or_else(overflow),
        "m" => count.checked_mul(60).map(Ttl::Seconds).ok_or_else(overflow),
        _ => Err(format!("unknown unit in {raw:?}: use d, w, h, m or never")),
    }
}

pub async fn create_token(
    ctx: &Context,
    name: String,
    ttl: Option<Ttl>,
    role: Option<String>,
    raw: bool,
) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let (expires_in_days, ttl_seconds) = match ttl {
        None => (None, None),
        Some(Ttl::Never) => (Some(None), None),
        Some(Ttl::Days(days)) => (Some(Some(days.into())), None),
        Some(Ttl::Seconds(seconds)) => (None, Some(seconds.into())),
    };
    let request = CreateTokenRequest {
        name,
        expires_in_days,
        ttl_seconds,
        role,
    };
    let created = session
        .client
        .create_token(&request)
        .await
        .map_err(|e| hint_session_only(session.explain(e)))?;
    if raw {
        outln!("{}", created.token);
        return Ok(());
    }
    if ctx.json {
        return print_json(&created);
    }
    let expiry = created.item.expires_at.map_or_else(
        || "never expires".to_owned(),
        |at| format!("expires {}", date(at)),
    );
    outln!(
        "Created token \"{}\" ({}); it {expiry}.",
        created.item.name,
        created.item.prefix
    );
    outln!(
        "Copy it now, it will not be shown again:\n\n  {}\n",
        created.token
    );
    outln!("For a shell or CI job:  export DA_TOKEN={}", created.token);
    Ok(())
}

fn hint_session_only(error: CliError) -> CliError {
    if error.status == Some(403) && error.message == da_types::detail::SESSION_REQUIRED {
        error.with_hint(
            "tokens are created from a signed-in session: run `da login` first (or use the web UI)",
        )
    } else {
        error
    }
}

pub async fn list_tokens(ctx: &Context) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let tokens = my_tokens(&session).await?;
    if ctx.json {
        return print_json(&tokens);
    }
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "PREFIX",
        "ROLE",
        "STATUS",
        "EXPIRES",
        "LAST USED",
    ]);
    for token in &tokens {
        table.row(vec![
            token.id.to_string(),
            token.name.clone(),
            token.prefix.clone(),
            token
                .role
                .map_or_else(|| "yours".to_owned(), |r| r.to_string()),
            token.status.as_str().to_owned(),
            maybe_relative(token.expires_at, "never"),
            last_used(token),
        ]);
    }
    table.print("No tokens. Create one with `da auth token create --name NAME`.");
    Ok(())
}

pub fn last_used(token: &TokenItem) -> String {
    match (token.last_used_at, &token.last_used_ip) {
        (Some(at), Some(ip)) => format!("{} from {ip}", relative(at)),
        (Some(at), None) => relative(at),
        _ => "never".into(),
    }
}

async fn my_tokens(session: &Session) -> Result<Vec<TokenItem>, CliError> {
    session
        .client
        .tokens()
        .await
        .map_err(|e| session.explain(e))
}

pub async fn revoke_token(ctx: &Context, key: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let tokens = my_tokens(&session).await?;
    let token = pick_token(&tokens, key)?;
    session
        .client
        .revoke_token(token.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "revoked": token.id }));
    }
    outln!("Revoked token \"{}\" ({}).", token.name, token.prefix);
    Ok(())
}

/// The one token `key` names: its id, else its prefix, else its name — preferring tokens that
/// are still active when several share a prefix or name.
fn pick_token<'a>(tokens: &'a [TokenItem], key: &str) -> Result<&'a TokenItem, CliError> {
    let key = key.trim();
    if let Ok(id) = key.parse::<uuid::Uuid>() {
        return tokens
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| CliError::not_found(da_types::detail::TOKEN_NOT_FOUND));
    }
    let by_prefix: Vec<&TokenItem> = tokens.iter().filter(|t| t.prefix == key).collect();
    let matches = if by_prefix.is_empty() {
        tokens.iter().filter(|t| t.name == key).collect()
    } else {
        by_prefix
    };
    let active: Vec<&TokenItem> = matches
        .iter()
        .copied()
        .filter(|t| t.status == TokenStatus::Active)
        .collect();
    let candidates = if active.is_empty() { matches } else { active };
    match candidates.as_slice() {
        [] => Err(
            CliError::not_found(format!("no token with the id, prefix or name {key:?}"))
                .with_hint("`da auth token list` shows your tokens"),
        ),
        [one] => Ok(one),
        several => {
            let listing: Vec<String> = several
                .iter()
                .map(|t| {
                    format!(
                        "  {}  {}  {}  {}",
                        t.id,
                        t.prefix,
                        t.name,
                        t.status.as_str()
                    )
                })
                .collect();
            Err(CliError {
                exit: Exit::Usage,
                message: format!(
                    "{key:?} matches {} tokens:\n{}",
                    several.len(),
                    listing.join("\n")
                ),
                hint: Some("revoke by id instead".into()),
                status: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("30d"), Ok(Ttl::Days(30)));
        assert_eq!(parse_ttl("30"), Ok(Ttl::Days(30)));
        assert_eq!(parse_ttl("2w"), Ok(Ttl::Days(14)));
        assert_eq!(parse_ttl("12h"), Ok(Ttl::Seconds(43_200)));
        assert_eq!(parse_ttl("NEVER"), Ok(Ttl::Never));
        for bad in ["", "0d", "-1d", "d", "3y", "1.5d", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
        assert!(parse_ttl("9999999999999999999h").is_err());
    }

    fn token(name: &str, prefix: &str, status: TokenStatus) -> TokenItem {
        TokenItem {
            id: uuid::Uuid::new_v4(),
            name: name.into(),
            prefix: prefix.into(),
            role: None,
            created_at: Utc::now(),
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            status,
        }
    }

    #[test]
    fn tokens_are_picked_by_id_prefix_or_name() {
        let tokens = vec![
            token("ci", "da_pat_aaaaa", TokenStatus::Active),
            token("ci", "da_pat_bbbbb", TokenStatus::Revoked),
            token("laptop", "da_pat_ccccc", TokenStatus::Active),
            token("laptop", "da_pat_ddddd", TokenStatus::Active),
        ];
        assert_eq!(pick_token(&tokens, "ci").unwrap().prefix, "da_pat_aaaaa");
        assert_eq!(pick_token(&tokens, "da_pat_bbbbb").unwrap().name, "ci");
        let id = tokens[2].id.to_string();
        assert_eq!(pick_token(&tokens, &id).unwrap().prefix, "da_pat_ccccc");
        let ambiguous = pick_token(&tokens, "laptop").unwrap_err();
        assert_eq!(ambiguous.exit, Exit::Usage);
        assert!(
            ambiguous.message.contains("da_pat_ccccc")
                && ambiguous.message.contains("da_pat_ddddd")
        );
        assert_eq!(
            pick_token(&tokens, "nope").unwrap_err().exit,
            Exit::NotFound
        );
    }
}
