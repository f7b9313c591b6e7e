//! Server functions: the SPA's internal RPC under `/rpc/`, each one a thin call into the same
//! services the REST API uses. Not a public API — scripts use `/api` and `/auth`.

use da_types::{MeResponse, Secret};
use leptos::prelude::*;

pub use crate::error::UiError;

/// Who is signed in (the dashboard's data).
#[server(prefix = "/rpc", endpoint = "me")]
pub async fn get_me() -> Result<MeResponse, UiError> {
    let ctx = crate::server::context()?;
    let caller = crate::server::caller()?;
    ctx.services.me(&caller).await.map_err(crate::server::fail)
}

/// Signs in and sets the session cookie; the page then navigates on.
#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: Secret) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::LoginRequest {
        email,
        password: password.into_inner(),
        client: da_types::LoginClient::Browser,
    };
    let token = ctx
        .services
        .login(&request, &server::client())
        .await
        .map_err(server::fail)?;
    server::set_session_cookie(&ctx, &token);
    Ok(())
}

/// Ends the current session server-side and clears the cookie.
#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    if let Ok(caller) = server::interactive() {
        ctx.services
            .logout(&caller, &server::client())
            .await
            .map_err(server::fail)?;
    }
    server::clear_session_cookie(&ctx);
    Ok(())
}

// ---- CLI sign-in: the `/device` page ------------------------------------------------------

/// The pending request behind a user code, for the signed-in user to decide on.
#[server(prefix = "/rpc", endpoint = "device/request")]
pub async fn device_request(user_code: String) -> Result<da_types::DeviceRequestInfo, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .device_request(&server::interactive()?, &user_code)
        .await
        .map_err(server::fail)
}

/// Approves or denies it; `approve` back on success.
#[server(prefix = "/rpc", endpoint = "device/decide")]
pub async fn decide_device(user_code: String, approve: bool) -> Result<bool, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::DeviceApproveRequest { user_code, approve };
    ctx.services
        .decide_device(&server::interactive()?, &request, &server::client())
        .await
        .map_err(server::fail)?;
    Ok(approve)
}

// ---- accounts: the admin screens, the profile and the password-link pages ----------------

use da_types::{AuditPage, CreatedUser, ResetLink, SessionInfo, User, UserPage};

/// One page of users for `/admin/users`.
#[server(prefix = "/rpc", endpoint = "users/list")]
pub async fn list_users(q: Option<String>, limit: u32, offset: u64) -> Result<UserPage, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let params = da_types::UserListParams {
        q,
        limit: Some(limit.to_string()),
        offset: Some(offset.to_string()),
        ..Default::default()
    };
    ctx.services
        .list_users(&server::admin()?, &params)
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "users/create")]
pub async fn create_user(
    email: String,
    name: Option<String>,
    role: String,
    password: Option<Secret>,
    send_invite: bool,
) -> Result<CreatedUser, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::CreateUserRequest {
        email,
        name: name.filter(|n| !n.trim().is_empty()),
        role: Some(role),
        password: password.map(Secret::into_inner).filter(|p| !p.is_empty()),
        send_invite,
    };
    ctx.services
        .create_user(&server::admin()?, &request, &server::client())
        .await
        .map_err(server::fail)
}

/// Changes a user's role or active flag (one at a time, as the table does).
#[server(prefix = "/rpc", endpoint = "users/update")]
pub async fn update_user(
    id: String,
    role: Option<String>,
    active: Option<bool>,
) -> Result<User, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::USER_NOT_FOUND)?;
    let request = da_types::UpdateUserRequest {
        name: None,
        role,
        active,
    };
    ctx.services
        .update_user(&caller, id, &request, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "users/delete")]
pub async fn delete_user(id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::USER_NOT_FOUND)?;
    ctx.services
        .delete_user(&caller, id, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "users/reset-link")]
pub async fn issue_reset_link(id: String) -> Result<ResetLink, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::USER_NOT_FOUND)?;
    ctx.services
        .issue_reset_link(&caller, id, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "users/set-password")]
pub async fn set_user_password(id: String, password: Secret) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::USER_NOT_FOUND)?;
    let request = da_types::SetPasswordRequest {
        password: password.into_inner(),
    };
    ctx.services
        .set_user_password(&caller, id, &request, &server::client())
        .await
        .map_err(server::fail)
}

/// The audit log for `/admin/audit`; `actor` is part of an email, or a user id.
#[server(prefix = "/rpc", endpoint = "audit")]
pub async fn audit_log(
    action_prefix: Option<String>,
    actor: Option<String>,
    cursor: Option<String>,
) -> Result<AuditPage, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let admin = server::admin()?;
    let params = da_types::AuditParams {
        action_prefix,
        actor,
        cursor,
        limit: Some(da_types::paging::UI_PAGE.to_string()),
        ..Default::default()
    };
    ctx.services
        .audit_log(&admin, &params)
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "me/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .my_sessions(&server::interactive()?)
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "me/sessions/revoke")]
pub async fn revoke_my_session(id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::interactive()?;
    let id = server::id(&id, da_types::detail::SESSION_NOT_FOUND)?;
    ctx.services
        .revoke_my_session(&caller, id, &server::client())
        .await
        .map_err(server::fail)
}

/// "Log out everywhere else"; how many sessions ended.
#[server(prefix = "/rpc", endpoint = "me/sessions/revoke-others")]
pub async fn revoke_other_sessions() -> Result<usize, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .revoke_my_other_sessions(&server::interactive()?, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "me/password")]
pub async fn change_password(
    current_password: Secret,
    new_password: Secret,
) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::ChangePasswordRequest {
        current_password: current_password.into_inner(),
        new_password: new_password.into_inner(),
    };
    ctx.services
        .change_own_password(&server::interactive()?, &request, &server::client())
        .await
        .map_err(server::fail)
}

/// "Forgot password": always the same answer.
#[server(prefix = "/rpc", endpoint = "password/reset")]
pub async fn request_reset(email: String) -> Result<String, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .request_password_reset(&da_types::ResetRequest { email }, &server::client())
        .map(|answer| answer.message)
        .map_err(server::fail)
}

/// Sets a password from a reset (`setup == false`) or invite link and signs in.
#[server(prefix = "/rpc", endpoint = "password/redeem")]
pub async fn redeem_link(
    setup: bool,
    email: String,
    token: Secret,
    password: Secret,
    name: Option<String>,
) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let client = server::client();
    let token_response = if setup {
        let request = da_types::SetupRequest {
            email,
            token: token.into_inner(),
            password: password.into_inner(),
            name,
        };
        ctx.services.complete_setup(&request, &client).await
    } else {
        let request = da_types::ResetConfirmRequest {
            email,
            token: token.into_inner(),
            password: password.into_inner(),
        };
        ctx.services.confirm_password_reset(&request, &client).await
    }
    .map_err(server::fail)?;
    server::set_session_cookie(&ctx, &token_response);
    Ok(())
}

// ---- personal access tokens ---------------------------------------------------------------

use da_types::{AdminTokenPage, CreatedToken, TokenItem};

/// The lifetime cap (`DA_PAT_MAX_DAYS`), so the form offers only what the server accepts.
#[server(prefix = "/rpc", endpoint = "tokens/max-days")]
pub async fn token_max_days() -> Result<Option<i64>, UiError> {
    let ctx = crate::server::context()?;
    crate::server::caller()?;
    Ok(ctx.services.pat_max_days())
}

/// Creates a token; `days: None` means no expiry. The secret comes back once.
#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    days: Option<i64>,
    role: Option<String>,
) -> Result<CreatedToken, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::CreateTokenRequest {
        name,
        expires_in_days: Some(days.map(serde_json::Number::from)),
        ttl_seconds: None,
        role: role.filter(|r| !r.is_empty()),
    };
    ctx.services
        .create_token(&server::interactive()?, &request, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "tokens/mine")]
pub async fn my_tokens() -> Result<Vec<TokenItem>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .my_tokens(&server::caller()?)
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let id = server::id(&id, da_types::detail::TOKEN_NOT_FOUND)?;
    ctx.services
        .revoke_my_token(&server::caller()?, id, &server::client())
        .await
        .map_err(server::fail)
}

/// The admin inventory; `owner` is part of the owner's email, or their id.
#[server(prefix = "/rpc", endpoint = "tokens/all")]
pub async fn all_tokens(
    owner: Option<String>,
    status: Option<String>,
    offset: u64,
) -> Result<AdminTokenPage, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let admin = server::admin()?;
    let params = da_types::TokenListParams {
        user_id: None,
        owner,
        status: status.filter(|s| !s.is_empty()),
        limit: Some(da_types::paging::UI_PAGE.to_string()),
        offset: Some(offset.to_string()),
    };
    ctx.services
        .all_tokens(&admin, &params)
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "tokens/admin-revoke")]
pub async fn admin_revoke_token(id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::TOKEN_NOT_FOUND)?;
    ctx.services
        .admin_revoke_token(&caller, id, &server::client())
        .await
        .map_err(server::fail)
}

/// Who is signed in, or `None` for a visitor (public pages).
#[server(prefix = "/rpc", endpoint = "me/optional")]
pub async fn signed_in_user() -> Result<Option<MeResponse>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    match server::signed_in() {
        Some(caller) => ctx
            .services
            .me(&caller)
            .await
            .map(Some)
            .map_err(server::fail),
        None => Ok(None),
    }
}

/// What the `/install` page shows: this server's URL and the CLI it ships. Anonymous.
#[server(prefix = "/rpc", endpoint = "install")]
pub async fn install_info() -> Result<da_types::InstallInfo, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .install_info(&server::client())
        .await
        .map_err(server::fail)
}

// ---- the dashboard and invites ------------------------------------------------------------

/// The dashboard's figures for the caller.
#[server(prefix = "/rpc", endpoint = "dashboard")]
pub async fn dashboard() -> Result<da_types::Dashboard, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .dashboard(&server::caller()?)
        .await
        .map_err(server::fail)
}

/// A fresh invite link for a user who has not chosen a password yet.
#[server(prefix = "/rpc", endpoint = "users/invite")]
pub async fn resend_invite(id: String) -> Result<da_types::InviteLink, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::USER_NOT_FOUND)?;
    ctx.services
        .resend_invite(&caller, id, &server::client())
        .await
        .map_err(server::fail)
}

// ---- groups and sign-in providers ---------------------------------------------------------

use da_types::{AuthProviders, Group, GroupMember, GroupPage, UserGroup};

/// How one may sign in here (the login page's "Sign in with …"). Anonymous.
#[server(prefix = "/rpc", endpoint = "auth/providers")]
pub async fn sign_in_providers() -> Result<AuthProviders, UiError> {
    Ok(crate::server::context()?.services.auth_providers())
}

/// External ids as typed in the forms: one per line (a value may hold commas, as LDAP names
/// do). Used by the forms too, to tell whether the list changed.
pub fn external_id_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One page of groups for `/admin/groups`.
#[server(prefix = "/rpc", endpoint = "groups/list")]
pub async fn list_groups(q: Option<String>, offset: u64) -> Result<GroupPage, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let params = da_types::GroupListParams {
        q,
        limit: Some(da_types::paging::UI_PAGE.to_string()),
        offset: Some(offset.to_string()),
    };
    ctx.services
        .list_groups(&server::admin()?, &params)
        .await
        .map_err(server::fail)
}

/// `role` empty: the group grants none.
#[server(prefix = "/rpc", endpoint = "groups/create")]
pub async fn create_group(
    name: String,
    description: String,
    role: String,
    external_ids: String,
) -> Result<Group, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::CreateGroupRequest {
        name,
        description: Some(description),
        role: Some(role).filter(|r| !r.is_empty()),
        external_ids: Some(external_id_lines(&external_ids)),
    };
    ctx.services
        .create_group(&server::admin()?, &request, &server::client())
        .await
        .map_err(server::fail)
}

/// Saves what the edit form changed, and only that (another admin's change to another field
/// stays): `None` leaves a field as it is; `role` empty clears it; `external_ids` holds one
/// per line, empty for none.
#[server(prefix = "/rpc", endpoint = "groups/update")]
pub async fn update_group(
    id: String,
    name: Option<String>,
    description: Option<String>,
    role: Option<String>,
    external_ids: Option<String>,
) -> Result<Group, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::GROUP_NOT_FOUND)?;
    let request = da_types::UpdateGroupRequest {
        name,
        description,
        role: role.map(|r| Some(r).filter(|r| !r.is_empty())),
        external_ids: external_ids.map(|text| external_id_lines(&text)),
    };
    ctx.services
        .update_group(&caller, id, &request, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "groups/delete")]
pub async fn delete_group(id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::GROUP_NOT_FOUND)?;
    ctx.services
        .delete_group(&caller, id, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "groups/members")]
pub async fn group_members(id: String) -> Result<Vec<GroupMember>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::GROUP_NOT_FOUND)?;
    ctx.services
        .group_members(&caller, id)
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "groups/add-member")]
pub async fn add_group_member(id: String, email: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::GROUP_NOT_FOUND)?;
    ctx.services
        .add_member_by_email(&caller, id, &email, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "groups/remove-member")]
pub async fn remove_group_member(id: String, user_id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::GROUP_NOT_FOUND)?;
    let user_id = server::id(&user_id, da_types::detail::MEMBERSHIP_NOT_FOUND)?;
    ctx.services
        .remove_member(&caller, id, user_id, &server::client())
        .await
        .map_err(server::fail)
}

/// A user's groups, for their row on `/admin/users`.
#[server(prefix = "/rpc", endpoint = "users/groups")]
pub async fn user_groups(id: String) -> Result<Vec<UserGroup>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let id = server::id(&id, da_types::detail::USER_NOT_FOUND)?;
    ctx.services
        .user_groups(&caller, id)
        .await
        .map_err(server::fail)
}

/// The caller's own groups, for `/profile`.
#[server(prefix = "/rpc", endpoint = "me/groups")]
pub async fn my_groups() -> Result<Vec<UserGroup>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .my_groups(&server::caller()?)
        .await
        .map_err(server::fail)
}

use da_types::{Dataset, QueryResult};

/// The datasets the caller may read (`/datasets`).
#[server(prefix = "/rpc", endpoint = "datasets/list")]
pub async fn list_datasets() -> Result<Vec<Dataset>, UiError> {
    use crate::server;
    let ctx = server::context()?;
    ctx.services
        .list_datasets(&server::caller()?)
        .await
        .map_err(server::fail)
}

/// One query from `/query`.
#[server(prefix = "/rpc", endpoint = "query")]
pub async fn run_query(sql: String, limit: u64) -> Result<QueryResult, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::QueryRequest {
        sql,
        limit: Some(limit.into()),
    };
    ctx.services
        .run_query(&server::caller()?, &request, &server::client())
        .await
        .map_err(server::fail)
}

/// Saves what the `/admin/datasets` row changed, and only that: `None` leaves a field as it
/// is; `min_role` empty clears it.
#[server(prefix = "/rpc", endpoint = "datasets/update")]
pub async fn update_dataset(
    name: String,
    description: Option<String>,
    min_role: Option<String>,
) -> Result<Dataset, UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let request = da_types::UpdateDatasetRequest {
        description,
        min_role: min_role.map(|r| Some(r).filter(|r| !r.is_empty())),
    };
    ctx.services
        .update_dataset(&caller, &name, &request, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "datasets/delete")]
pub async fn delete_dataset(name: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    ctx.services
        .delete_dataset(&caller, &name, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "datasets/grant")]
pub async fn grant_dataset(name: String, group_id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let group_id = server::id(&group_id, da_types::detail::GROUP_NOT_FOUND)?;
    ctx.services
        .grant_dataset(&caller, &name, group_id, &server::client())
        .await
        .map_err(server::fail)
}

#[server(prefix = "/rpc", endpoint = "datasets/revoke")]
pub async fn revoke_dataset(name: String, group_id: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let caller = server::admin()?;
    let group_id = server::id(&group_id, da_types::detail::GRANT_NOT_FOUND)?;
    ctx.services
        .revoke_dataset(&caller, &name, group_id, &server::client())
        .await
        .map_err(server::fail)
}
