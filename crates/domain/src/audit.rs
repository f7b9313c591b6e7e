//! Audit actions (`API.md` §7) and the builder for their rows. Reading the log is
//! `audit_log`'s business.

use crate::principal::Principal;
use crate::store::AuditRecord;
use chrono::Utc;
use uuid::Uuid;

pub const AUTH_LOGIN: &str = "auth.login";
pub const AUTH_LOGIN_FAILED: &str = "auth.login_failed";
pub const AUTH_LOGOUT: &str = "auth.logout";
pub const AUTH_BOOTSTRAP: &str = "auth.bootstrap";
pub const USER_CREATE: &str = "user.create";
pub const USER_UPDATE: &str = "user.update";
pub const USER_DELETE: &str = "user.delete";
pub const USER_RESET_PASSWORD: &str = "user.reset_password";
pub const USER_INVITE: &str = "user.invite";
pub const USER_SET_PASSWORD: &str = "user.set_password";
pub const USER_PASSWORD_CHANGED: &str = "user.password_changed";
pub const SESSION_REVOKE: &str = "session.revoke";
pub const TOKEN_CREATE: &str = "token.create";
pub const TOKEN_REVOKE: &str = "token.revoke";
pub const TOKEN_ADMIN_REVOKE: &str = "token.admin_revoke";
pub const TOKEN_FIRST_USE_NEW_IP: &str = "token.first_use_new_ip";

/// Starts an audit row for `action` on `resource`, stamped now.
pub fn record(action: &str, resource: impl Into<String>) -> AuditRecord {
    AuditRecord {
        id: Uuid::new_v4(),
        at: Utc::now(),
        actor_id: None,
        actor_email: None,
        credential: None,
        action: action.to_owned(),
        resource: Some(resource.into()),
        params: serde_json::Value::Object(Default::default()),
        ip: None,
    }
}

impl AuditRecord {
    pub fn by(mut self, actor_id: Uuid, actor_email: &str) -> Self {
        self.actor_id = Some(actor_id);
        self.actor_email = Some(actor_email.to_owned());
        self
    }

    /// The caller, and the session or token they used.
    pub fn by_principal(mut self, principal: &Principal) -> Self {
        self.credential = Some(principal.credential_ref());
        self.by(principal.user_id, &principal.email)
    }

    pub fn from_ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(str::to_owned);
        self
    }

    pub fn with_params(mut self, params: serde_json::Value) -> Self {
        self.params = params;
        self
    }
}
