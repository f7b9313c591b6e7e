//! `da admin users|tokens|audit`: thin translations of the admin REST routes.
//!
//! A `USER` argument is an id or an email; emails are looked up exactly
//! (`GET /api/users?email=`).

use crate::commands::auth::last_used;
use crate::context::{Context, Session};
use crate::error::CliError;
use crate::output::{Table, date, maybe_relative, print_json};
use crate::prompt;
use da_client::ClientError;
use da_types::{
    AuditParams, CreateUserRequest, TokenListParams, UpdateUserRequest, User, UserListParams,
    UserRef,
};

/// The largest page the server gives of both users and tokens.
const PAGE: u32 = if da_types::paging::USERS_MAX < da_types::paging::TOKENS_MAX {
    da_types::paging::USERS_MAX
} else {
    da_types::paging::TOKENS_MAX
};

/// Up to `limit` items of an offset-paged listing, in pages of at most `page`, and the
/// server's total. `fetch(page_limit, offset)` asks for one page.
pub(crate) async fn collect_pages<T, F, Fut>(
    limit: u32,
    page: u32,
    mut fetch: F,
) -> Result<(Vec<T>, u64), ClientError>
where
    F: FnMut(u32, usize) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, u64), ClientError>>,
{
    let mut items = Vec::new();
    let mut total = 0;
    while items.len() < limit as usize {
        let want = (limit as usize - items.len()).min(page as usize);
        let (batch, count) = fetch(want as u32, items.len()).await?;
        total = count;
        let last = batch.len() < want;
        items.extend(batch);
        if last {
            break;
        }
    }
    Ok((items, total))
}

pub(crate) async fn resolve_user(session: &Session, key: &str) -> Result<User, CliError> {
    let email = match UserRef::parse(key).map_err(CliError::usage)? {
        UserRef::Id(id) => {
            return session
                .client
                .user(id)
                .await
                .map_err(|e| session.explain(e));
        }
        UserRef::Email(email) => email,
    };
    let params = UserListParams {
        email: Some(email.clone()),
        limit: Some("1".into()),
        ..Default::default()
    };
    let (users, _) = session
        .client
        .list_users(&params)
        .await
        .map_err(|e| session.explain(e))?;
    users
        .into_iter()
        .next()
        .ok_or_else(|| CliError::not_found(format!("no user with the email {email}")))
}

pub async fn list_users(
    ctx: &Context,
    search: Option<String>,
    role: Option<String>,
    inactive: bool,
    limit: u32,
) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let mut params = UserListParams {
        q: search,
        role,
        active: inactive.then(|| "false".to_owned()),
        ..Default::default()
    };
    let client = &session.client;
    let (users, total) = collect_pages(limit, PAGE, |page_limit, offset| {
        params.limit = Some(page_limit.to_string());
        params.offset = Some(offset.to_string());
        let params = params.clone();
        async move { client.list_users(&params).await }
    })
    .await
    .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&users);
    }
    let mut table = Table::new(&["ID", "EMAIL", "NAME", "ROLE", "STATUS", "LAST LOGIN"]);
    for user in &users {
        table.row(vec![
            user.id.to_string(),
            user.email.clone(),
            user.name.clone(),
            crate::output::role_in_force(user.role, user.effective_role),
            if user.active { "active" } else { "inactive" }.to_owned(),
            maybe_relative(user.last_login_at, "never"),
        ]);
    }
    table.print("No users match.");
    if total > users.len() as u64 {
        eprintln!(
            "Showing {} of {total} users; use --limit or --search for more.",
            users.len()
        );
    }
    Ok(())
}

pub async fn add_user(
    ctx: &Context,
    email: String,
    name: Option<String>,
    role: Option<String>,
    invite: bool,
    password_stdin: bool,
) -> Result<(), CliError> {
    let password = if password_stdin {
        Some(prompt::read_stdin("password")?)
    } else {
        None
    };
    let session = ctx.session().await?;
    let request = CreateUserRequest {
        email,
        name,
        role,
        password,
        send_invite: invite,
    };
    let created = session
        .client
        .create_user(&request)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&created);
    }
    outln!("Created {} ({}).", created.user.email, created.user.role);
    if created.invite_email_sent == Some(true) {
        outln!("An invitation with a setup link was emailed to them.");
    }
    if let Some(url) = &created.invite_url {
        outln!("Setup link (valid 7 days, hand it over privately):\n  {url}");
    }
    Ok(())
}

pub async fn set_role(ctx: &Context, key: &str, role: String) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let user = resolve_user(&session, key).await?;
    let request = UpdateUserRequest {
        role: Some(role),
        ..Default::default()
    };
    let user = session
        .client
        .update_user(user.id, &request)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&user);
    }
    outln!("{} is now {}.", user.email, user.role);
    Ok(())
}

pub async fn set_active(ctx: &Context, key: &str, active: bool) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let user = resolve_user(&session, key).await?;
    let result = if active {
        session.client.activate_user(user.id).await
    } else {
        session.client.deactivate_user(user.id).await
    };
    let user = result.map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&user);
    }
    if active {
        outln!("Activated {}.", user.email);
    } else {
        outln!(
            "Deactivated {}: their sessions and tokens stopped working.",
            user.email
        );
    }
    Ok(())
}

pub async fn reset_password(ctx: &Context, key: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let user = resolve_user(&session, key).await?;
    let link = session
        .client
        .issue_reset_link(user.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&link);
    }
    if link.email_sent {
        outln!("A reset link was emailed to {}.", user.email);
    }
    outln!(
        "Reset link for {} (single use, hand it over privately):\n  {}",
        user.email,
        link.reset_url
    );
    Ok(())
}

pub async fn set_password(ctx: &Context, key: &str, password_stdin: bool) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let user = resolve_user(&session, key).await?;
    let password = if password_stdin {
        prompt::read_stdin("password")?
    } else {
        prompt::new_password(&format!("New password for {}: ", user.email))?
    };
    session
        .client
        .set_user_password(user.id, &password)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "id": user.id, "email": user.email }));
    }
    outln!(
        "Password set for {}; their sessions were signed out.",
        user.email
    );
    Ok(())
}

pub async fn delete_user(ctx: &Context, key: &str, yes: bool) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let user = resolve_user(&session, key).await?;
    if !yes {
        if !prompt::stdin_is_terminal() {
            return Err(CliError::usage(format!(
                "refusing to delete {} without confirmation: pass --yes",
                user.email
            )));
        }
        let question = format!(
            "Delete {} ({})? Their sessions and tokens are revoked; the audit log keeps their actions.",
            user.email, user.role
        );
        if !prompt::confirm(&question)? {
            return Err(CliError::failure("not deleted"));
        }
    }
    session
        .client
        .delete_user(user.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "deleted": user.id, "email": user.email }));
    }
    outln!("Deleted {}.", user.email);
    Ok(())
}

pub async fn list_tokens(
    ctx: &Context,
    owner: Option<String>,
    status: Option<String>,
    limit: u32,
) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let user_id = match owner {
        Some(key) => Some(resolve_user(&session, &key).await?.id.to_string()),
        None => None,
    };
    let mut params = TokenListParams {
        user_id,
        status,
        ..Default::default()
    };
    let client = &session.client;
    let (tokens, total) = collect_pages(limit, PAGE, |page_limit, offset| {
        params.limit = Some(page_limit.to_string());
        params.offset = Some(offset.to_string());
        let params = params.clone();
        async move { client.all_tokens(&params).await }
    })
    .await
    .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&tokens);
    }
    let mut table = Table::new(&[
        "ID",
        "OWNER",
        "NAME",
        "PREFIX",
        "STATUS",
        "EXPIRES",
        "LAST USED",
    ]);
    for token in &tokens {
        table.row(vec![
            token.item.id.to_string(),
            token
                .user_email
                .clone()
                .unwrap_or_else(|| format!("(deleted {})", token.user_id)),
            token.item.name.clone(),
            token.item.prefix.clone(),
            token.item.status.as_str().to_owned(),
            maybe_relative(token.item.expires_at, "never"),
            last_used(&token.item),
        ]);
    }
    table.print("No tokens match.");
    if total > tokens.len() as u64 {
        eprintln!(
            "Showing {} of {total} tokens; use --limit for more.",
            tokens.len()
        );
    }
    Ok(())
}

pub async fn revoke_token(ctx: &Context, id: &str) -> Result<(), CliError> {
    let id: uuid::Uuid = id.trim().parse().map_err(|_| {
        CliError::usage(format!(
            "{id:?} is not a token id (see `da admin tokens list`)"
        ))
    })?;
    let session = ctx.session().await?;
    session
        .client
        .admin_revoke_token(id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "revoked": id }));
    }
    outln!("Revoked token {id}.");
    Ok(())
}

/// The server's largest audit page.
const AUDIT_PAGE: u32 = da_types::paging::AUDIT_MAX;

pub async fn audit(
    ctx: &Context,
    action: Option<String>,
    actor: Option<String>,
    limit: u32,
) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let actor_id = match actor {
        Some(key) => Some(resolve_user(&session, &key).await?.id.to_string()),
        None => None,
    };
    let mut params = AuditParams {
        action_prefix: action,
        actor_id,
        ..Default::default()
    };
    let mut rows = Vec::new();
    while (rows.len() as u64) < u64::from(limit) {
        params.limit = Some((limit - rows.len() as u32).min(AUDIT_PAGE).to_string());
        let page = session
            .client
            .audit(&params)
            .await
            .map_err(|e| session.explain(e))?;
        rows.extend(page.rows);
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => break,
        }
    }
    if ctx.json {
        return print_json(&rows);
    }
    let mut table = Table::new(&["AT", "ACTOR", "ACTION", "RESOURCE", "IP", "DETAILS"]);
    for row in &rows {
        let details = match &row.params {
            serde_json::Value::Object(map) if map.is_empty() => String::new(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        table.row(vec![
            date(row.at),
            row.actor_email.clone().unwrap_or_else(|| "-".into()),
            row.action.clone(),
            row.resource.clone().unwrap_or_else(|| "-".into()),
            row.ip.clone().unwrap_or_else(|| "-".into()),
            details,
        ]);
    }
    table.print("No audit rows match.");
    Ok(())
}

pub async fn verify_audit(ctx: &Context) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let result = session
        .client
        .verify_audit()
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        print_json(&result)?;
    }
    match (result.ok, result.first_bad_seq) {
        (true, _) => {
            if !ctx.json {
                outln!(
                    "The audit log is intact: {} rows, head hash {}",
                    result.rows,
                    result.head_hash.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
        (false, seq) => Err(CliError::failure(format!(
            "the audit log was changed behind the server's back: the chain breaks at seq {} ({} rows before it check out)",
            seq.map_or_else(|| "?".to_owned(), |s| s.to_string()),
            result.rows
        ))
        .with_hint("compare with your last export (`da admin audit export`) to see what changed")),
    }
}

pub async fn export_audit(ctx: &Context, since_seq: u64) -> Result<(), CliError> {
    use std::io::Write;
    let session = ctx.session().await?;
    let mut response = session
        .client
        .export_audit(since_seq)
        .await
        .map_err(|e| session.explain(e))?;
    let mut stdout = std::io::stdout().lock();
    let (mut rows, mut last_seq) = (0u64, None);
    let mut pending = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|e| {
            CliError::failure(format!(
                "the export broke off after {rows} rows: {e}; resume with --since-seq {}",
                last_seq.unwrap_or(since_seq)
            ))
        })?;
        let Some(chunk) = chunk else { break };
        pending.extend_from_slice(&chunk);
        // Whole lines only, so a resumed export never repeats or halves a row.
        let Some(end) = pending.iter().rposition(|b| *b == b'\n') else {
            continue;
        };
        let complete: Vec<u8> = pending.drain(..=end).collect();
        for line in complete.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(row) = serde_json::from_slice::<da_types::AuditExportRow>(line) {
                last_seq = Some(row.seq);
            }
            rows += 1;
        }
        stdout
            .write_all(&complete)
            .map_err(|e| CliError::failure(format!("cannot write the export: {e}")))?;
    }
    stdout
        .flush()
        .map_err(|e| CliError::failure(format!("cannot write the export: {e}")))?;
    match last_seq {
        Some(seq) => eprintln!("Exported {rows} rows, up to seq {seq}."),
        None => eprintln!("Nothing to export after seq {since_seq}."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of `total` numbers served the way the API pages it.
    async fn pages(limit: u32, total: usize) -> (Vec<usize>, u64, Vec<(u32, usize)>) {
        let mut calls = Vec::new();
        let (items, count) = collect_pages(limit, PAGE, |page_limit, offset| {
            calls.push((page_limit, offset));
            let page: Vec<usize> = (offset..total).take(page_limit as usize).collect();
            async move { Ok((page, total as u64)) }
        })
        .await
        .unwrap();
        (items, count, calls)
    }

    #[tokio::test]
    async fn listings_are_fetched_page_by_page_up_to_the_limit() {
        let (items, total, calls) = pages(2100, 2500).await;
        assert_eq!(items, (0..2100).collect::<Vec<_>>());
        assert_eq!(total, 2500);
        assert_eq!(calls, [(1000, 0), (1000, 1000), (100, 2000)]);

        let (items, total, calls) = pages(100, 10).await;
        assert_eq!((items.len(), total), (10, 10));
        assert_eq!(calls, [(100, 0)], "a short page is the last");

        let (items, _, calls) = pages(1000, 1000).await;
        assert_eq!(items.len(), 1000);
        assert_eq!(calls.len(), 1);
    }
}
