//! Audit actions (`API.md` §7) and the builder for their rows.

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

/// The audit log as admins read it (`GET /api/admin/audit`).
pub mod query {
    use crate::error::Error;
    use crate::principal::Principal;
    use crate::services::Services;
    use crate::store::{AuditFilter, AuditRecord};
    use crate::users::{parse_limit, require_admin, seconds};
    use chrono::{DateTime, Utc};
    use da_types::{AuditPage, AuditParams, AuditRow};
    use uuid::Uuid;

    pub const MAX_PAGE: u32 = 500;
    const DEFAULT_PAGE: u32 = 100;

    fn timestamp(raw: Option<&str>, name: &str) -> Result<Option<DateTime<Utc>>, Error> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => DateTime::parse_from_rfc3339(raw)
                .map(|at| Some(at.with_timezone(&Utc)))
                .map_err(|_| {
                    Error::invalid(format!(
                        "{name} must be an RFC 3339 timestamp, e.g. 2026-11-22T17:04:05Z"
                    ))
                }),
        }
    }

    /// A cursor names the last row of a page: `<microseconds>_<id>`.
    fn cursor_of(row: &AuditRecord) -> String {
        format!("{}_{}", row.at.timestamp_micros(), row.id)
    }

    fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), Error> {
        let invalid = || Error::invalid("cursor is not valid: pass next_cursor back unchanged");
        let (micros, id) = raw.trim().split_once('_').ok_or_else(invalid)?;
        let at = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid)?;
        Ok((at, Uuid::parse_str(id).map_err(|_| invalid())?))
    }

    fn row_view(row: AuditRecord) -> AuditRow {
        AuditRow {
            id: row.id,
            at: seconds(row.at),
            actor_id: row.actor_id,
            actor_email: row.actor_email,
            action: row.action,
            resource: row.resource,
            params: row.params,
            ip: row.ip,
        }
    }

    impl Services {
        /// `GET /api/admin/audit`: newest first, `limit` rows a page, `next_cursor` while more.
        pub async fn audit_log(
            &self,
            caller: &Principal,
            params: &AuditParams,
        ) -> Result<AuditPage, Error> {
            require_admin(caller)?;
            let limit = parse_limit(params.limit.as_deref(), MAX_PAGE, DEFAULT_PAGE)?;
            let actor_id = match params.actor_id.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(
                    Uuid::parse_str(raw).map_err(|_| Error::invalid("actor_id must be a UUID"))?,
                ),
            };
            let text = |raw: &Option<String>| {
                raw.as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let filter = AuditFilter {
                action_prefix: text(&params.action_prefix),
                actor_id,
                resource: text(&params.resource),
                since: timestamp(params.since.as_deref(), "since")?,
                until: timestamp(params.until.as_deref(), "until")?,
                before: params.cursor.as_deref().map(parse_cursor).transpose()?,
                // One more than asked tells whether another page follows.
                limit: limit + 1,
            };
            let mut rows = self.inner.store.list_audit(&filter).await?;
            let next_cursor = if rows.len() > limit as usize {
                rows.truncate(limit as usize);
                rows.last().map(cursor_of)
            } else {
                None
            };
            Ok(AuditPage {
                rows: rows.into_iter().map(row_view).collect(),
                next_cursor,
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn cursors_round_trip_and_garbage_is_a_clear_400() {
            let row = crate::audit::record("x", "y");
            let (at, id) = parse_cursor(&cursor_of(&row)).unwrap();
            assert_eq!(id, row.id);
            assert_eq!(at.timestamp_micros(), row.at.timestamp_micros());
            for bad in [
                "",
                "abc",
                "1_notauuid",
                "x_00000000-0000-0000-0000-000000000000",
            ] {
                assert!(matches!(parse_cursor(bad), Err(Error::Invalid(_))), "{bad}");
            }
        }
    }
}
