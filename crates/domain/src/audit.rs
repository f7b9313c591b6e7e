//! Audit actions (`API.md` §7) and the builder for their rows.

use crate::principal::Principal;
use crate::store::AuditRecord;
use chrono::Utc;
use uuid::Uuid;

pub const AUTH_LOGIN: &str = "auth.login";
pub const AUTH_LOGIN_FAILED: &str = "auth.login_failed";
pub const AUTH_LOGOUT: &str = "auth.logout";
pub const AUTH_BOOTSTRAP: &str = "auth.bootstrap";

/// Starts an audit row for `action` on `resource`, stamped now.
pub fn record(action: &str, resource: impl Into<String>) -> AuditRecord {
    AuditRecord {
        id: Uuid::new_v4(),
        at: Utc::now(),
        actor_id: None,
        actor_email: None,
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

    pub fn by_principal(self, principal: &Principal) -> Self {
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
