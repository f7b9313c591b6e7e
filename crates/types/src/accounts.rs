//! Wire types of user management, password flows, sessions and the audit log (`API.md` §3–§5, §7).

use crate::Role;
use crate::dto::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `User` of `API.md` §5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// The user's own role.
    pub role: Role,
    /// The highest of the own role and the roles of the user's groups: what they act with.
    pub effective_role: Role,
    pub active: bool,
    pub has_password: bool,
    /// Created by, or last signed in through, single sign-on.
    #[serde(default)]
    pub sso: bool,
    /// Active, but has not chosen a password yet (an invite is pending).
    #[serde(default)]
    pub invited: bool,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "rfc3339::option")]
    pub last_login_at: Option<DateTime<Utc>>,
    #[serde(with = "rfc3339::option")]
    pub deactivated_at: Option<DateTime<Utc>>,
    pub deactivated_by: Option<Uuid>,
}

/// `POST /api/users` answers the user plus the invite link, when one was made.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: User,
    pub invite_url: Option<String>,
    pub invite_email_sent: Option<bool>,
}

crate::debug_redacting!(CreatedUser { user, invite_email_sent } secret { invite_url });

/// The query of `GET /api/users`, as sent: every value is checked by the service, so that a bad
/// one gets a sentence naming it rather than a generic parse error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

/// One page of users and how many match in all (`X-Total-Count`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<User>,
    pub total: u64,
}

/// `POST /api/users`. `role` stays a string so an unknown one is a 400 naming it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserRequest {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub send_invite: bool,
}

crate::debug_redacting!(CreateUserRequest { email, name, role, send_invite } secret { password });

/// `PATCH /api/users/{id}`: at least one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// `POST /api/users/{id}/reset-password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetLink {
    pub reset_url: String,
    pub email_sent: bool,
}

crate::debug_redacting!(ResetLink { email_sent } secret { reset_url });

/// `POST /api/users/{id}/invite`: a fresh setup link for an invited user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteLink {
    pub invite_url: String,
    pub email_sent: bool,
}

crate::debug_redacting!(InviteLink { email_sent } secret { invite_url });

/// The dashboard's figures for the caller (`/`), and for admins the system's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    #[serde(with = "rfc3339::option")]
    pub last_login_at: Option<DateTime<Utc>>,
    pub live_sessions: u64,
    pub active_tokens: u64,
    /// The caller's active token that runs out first, if any expires.
    pub next_expiring_token: Option<ExpiringToken>,
    pub admin: Option<AdminSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringToken {
    pub name: String,
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    pub users: u64,
    /// Invited users who have not chosen a password yet.
    pub invited: u64,
    pub active_tokens: u64,
    /// Failed sign-ins in the last 24 hours.
    pub failed_logins_24h: u64,
}

/// `POST /api/users/{id}/set-password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPasswordRequest {
    pub password: String,
}

crate::debug_redacting!(SetPasswordRequest {  } secret { password });

/// `POST /api/me/password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

crate::debug_redacting!(ChangePasswordRequest {  } secret { current_password, new_password });

/// `POST /auth/password/reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequest {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResponse {
    pub message: String,
}

/// `POST /auth/password/reset/confirm`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetConfirmRequest {
    pub email: String,
    pub token: String,
    pub password: String,
}

crate::debug_redacting!(ResetConfirmRequest { email } secret { token, password });

/// `POST /auth/password/setup`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    pub email: String,
    pub token: String,
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
}

crate::debug_redacting!(SetupRequest { email, name } secret { token, password });

/// A login session as `GET /api/me/sessions` and `GET /api/users/{id}/sessions` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Uuid,
    pub device_label: String,
    pub ip: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub last_active_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// Only in `/api/me/sessions`: whether this is the caller's own session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

/// `AuditRow` of `API.md` §7.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: Uuid,
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub params: serde_json::Value,
    pub ip: Option<String>,
    /// Which credential acted (session or token); `null` for anonymous actions.
    #[serde(default)]
    pub credential: Option<AuditCredential>,
}

/// The credential behind an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCredential {
    pub kind: crate::CredentialKind,
    pub id: Uuid,
}

/// The query of `GET /api/admin/audit`, as sent (checked by the service).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// Case-insensitive substring of the actor's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next_cursor: Option<String>,
}

/// `GET /api/admin/audit/verify` (`API.md` §14): the hash chain checked from its first row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub ok: bool,
    /// Rows checked: all of them when `ok`, those before the break otherwise.
    pub rows: u64,
    /// The last row's hash, when `ok` (keep it: a later check must extend it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The first row whose hash, position or predecessor does not match, when not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<u64>,
}

/// One line of `GET /api/admin/audit/export` (NDJSON): the row with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditExportRow {
    pub seq: u64,
    pub hash: String,
    /// `at` to the microsecond, as hashed (the listing's `at` has whole seconds).
    pub at_micros: String,
    #[serde(flatten)]
    pub row: AuditRow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_user_flattens_the_user_and_keeps_null_fields() {
        let at = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let created = CreatedUser {
            user: User {
                id: Uuid::nil(),
                email: "a@b.c".into(),
                name: "a".into(),
                role: Role::Analyst,
                effective_role: Role::Analyst,
                active: true,
                has_password: false,
                sso: false,
                invited: true,
                created_at: at,
                updated_at: at,
                last_login_at: None,
                deactivated_at: None,
                deactivated_by: None,
            },
            invite_url: None,
            invite_email_sent: None,
        };
        let json = serde_json::to_value(&created).unwrap();
        assert_eq!(json["email"], "a@b.c");
        assert_eq!(json["role"], "analyst");
        assert!(json["last_login_at"].is_null());
        assert!(json["invite_url"].is_null());
        assert_eq!(
            serde_json::from_value::<CreatedUser>(json).unwrap(),
            created
        );
    }
}
