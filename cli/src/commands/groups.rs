//! `da admin groups …`: thin translations of the group routes (`API.md` §10).
//!
//! A `GROUP` argument is an id or a name (matched case-insensitively, as names are unique that
//! way); a `USER` argument is an id or an email.

use crate::commands::admin::{collect_pages, resolve_user};
use crate::context::{Context, Session};
use crate::error::CliError;
use crate::output::{Table, date, print_json};
use crate::prompt;
use da_types::paging::GROUPS_MAX;
use da_types::{CreateGroupRequest, Group, GroupListParams, UpdateGroupRequest};

/// The group an id or a name refers to.
pub(crate) async fn resolve_group(session: &Session, key: &str) -> Result<Group, CliError> {
    let key = key.trim();
    if let Ok(id) = key.parse::<uuid::Uuid>() {
        return session
            .client
            .group(id)
            .await
            .map_err(|e| session.explain(e));
    }
    let wanted = key.to_lowercase();
    // Every group whose name contains the key, looked through for the one that is it.
    let (groups, _) = fetch_groups(session, Some(key.to_owned()), u32::MAX).await?;
    groups
        .into_iter()
        .find(|g| g.name.to_lowercase() == wanted)
        .ok_or_else(|| {
            CliError::not_found(format!("no group named {key:?}"))
                .with_hint("`da admin groups list` shows them")
        })
}

/// Up to `limit` groups whose name contains `q`, by name, and how many match.
async fn fetch_groups(
    session: &Session,
    q: Option<String>,
    limit: u32,
) -> Result<(Vec<Group>, u64), CliError> {
    let params = GroupListParams {
        q,
        ..Default::default()
    };
    let client = &session.client;
    collect_pages(limit, GROUPS_MAX, |page_limit, offset| {
        let mut params = params.clone();
        params.limit = Some(page_limit.to_string());
        params.offset = Some(offset.to_string());
        async move { client.list_groups(&params).await }
    })
    .await
    .map_err(|e| session.explain(e))
}

fn role_cell(group: &Group) -> String {
    group.role.map_or_else(|| "-".to_owned(), |r| r.to_string())
}

pub async fn list(ctx: &Context, search: Option<String>, limit: u32) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let (groups, total) = fetch_groups(&session, search, limit).await?;
    if ctx.json {
        return print_json(&groups);
    }
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "ROLE",
        "MEMBERS",
        "EXTERNAL IDS",
        "DESCRIPTION",
    ]);
    for group in &groups {
        table.row(vec![
            group.id.to_string(),
            group.name.clone(),
            role_cell(group),
            group.member_count.to_string(),
            group.external_ids.join(", "),
            group.description.clone(),
        ]);
    }
    table.print("No groups match.");
    if total > groups.len() as u64 {
        eprintln!(
            "Showing {} of {total} groups; use --limit or --search for more.",
            groups.len()
        );
    }
    Ok(())
}

pub async fn show(ctx: &Context, key: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = resolve_group(&session, key).await?;
    let members = session
        .client
        .group_members(group.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "group": group, "members": members }));
    }
    let mut table = Table::new(&["", ""]);
    table.row(vec!["id:".into(), group.id.to_string()]);
    table.row(vec!["name:".into(), group.name.clone()]);
    table.row(vec!["description:".into(), group.description.clone()]);
    table.row(vec!["grants role:".into(), role_cell(&group)]);
    table.row(vec!["external ids:".into(), group.external_ids.join(", ")]);
    table.row(vec!["members:".into(), group.member_count.to_string()]);
    table.row(vec!["created:".into(), date(group.created_at)]);
    table.row(vec!["updated:".into(), date(group.updated_at)]);
    crate::output::emit(table.render().trim_start());
    if !members.is_empty() {
        outln!("");
        print_members(&members);
    }
    Ok(())
}

fn print_members(members: &[da_types::GroupMember]) {
    let mut table = Table::new(&["USER ID", "EMAIL", "NAME", "SOURCE", "ADDED"]);
    for member in members {
        table.row(vec![
            member.user_id.to_string(),
            member.email.clone(),
            member.name.clone(),
            member.source.as_str().to_owned(),
            date(member.added_at),
        ]);
    }
    table.print("No members.");
}

pub async fn create(ctx: &Context, request: CreateGroupRequest) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = session
        .client
        .create_group(&request)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&group);
    }
    outln!("Created group {} ({}).", group.name, group.id);
    Ok(())
}

pub async fn update(ctx: &Context, key: &str, request: UpdateGroupRequest) -> Result<(), CliError> {
    if request == UpdateGroupRequest::default() {
        return Err(CliError::usage(
            "nothing to change: pass --name, --description, --role, --no-role, --external-id or --no-external-ids",
        ));
    }
    let session = ctx.session().await?;
    let group = resolve_group(&session, key).await?;
    let group = session
        .client
        .update_group(group.id, &request)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&group);
    }
    outln!(
        "Updated group {} (grants role: {}).",
        group.name,
        role_cell(&group)
    );
    Ok(())
}

pub async fn delete(ctx: &Context, key: &str, yes: bool) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = resolve_group(&session, key).await?;
    if !yes {
        if !prompt::stdin_is_terminal() {
            return Err(CliError::usage(format!(
                "refusing to delete the group {} without confirmation: pass --yes",
                group.name
            )));
        }
        let question = format!(
            "Delete the group {} with its {} memberships? Members lose the role it grants at once.",
            group.name, group.member_count
        );
        if !prompt::confirm(&question)? {
            return Err(CliError::failure("not deleted"));
        }
    }
    session
        .client
        .delete_group(group.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "deleted": group.id, "name": group.name }));
    }
    outln!("Deleted group {}.", group.name);
    Ok(())
}

pub async fn members(ctx: &Context, key: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = resolve_group(&session, key).await?;
    let members = session
        .client
        .group_members(group.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&members);
    }
    print_members(&members);
    Ok(())
}

pub async fn add_member(ctx: &Context, group: &str, user: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = resolve_group(&session, group).await?;
    let user = resolve_user(&session, user).await?;
    session
        .client
        .add_group_member(group.id, user.id)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "group_id": group.id, "user_id": user.id }));
    }
    outln!("{} is in the group {}.", user.email, group.name);
    Ok(())
}

pub async fn remove_member(ctx: &Context, group: &str, user: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = resolve_group(&session, group).await?;
    let user = resolve_user(&session, user).await?;
    session
        .client
        .remove_group_member(group.id, user.id)
        .await
        .map_err(|e| {
            let err = session.explain(e);
            if err.status == Some(409) {
                err.with_hint(
                    "the identity provider's groups claim decides this membership; change it there",
                )
            } else {
                err
            }
        })?;
    if ctx.json {
        return print_json(&serde_json::json!({ "group_id": group.id, "user_id": user.id }));
    }
    outln!("Removed {} from the group {}.", user.email, group.name);
    Ok(())
}
