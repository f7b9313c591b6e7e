//! Audit actions (`API.md` §7) and the builder for their rows. Reading the log is
//! `audit_log`'s business.

use crate::principal::Principal;
use crate::store::AuditRecord;
use chrono::Utc;
use uuid::Uuid;

pub use da_types::audit::action::*;

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
