//! The dashboard's figures (`/`): the caller's own, and for admins a view of the system.

use crate::error::Error;
use crate::params::seconds;
use crate::policy::{Admin, require_admin};
use crate::principal::Principal;
use crate::services::Services;
use crate::store::{AuditFilter, TokenFilter, UserFilter};
use crate::tokens::status;
use chrono::{Duration, Utc};
use da_types::{AdminSummary, Dashboard, ExpiringToken, TokenStatus};

impl Services {
    /// What `/` shows: your last sign-in, live sessions, active tokens and the next to expire;
    /// for admins also users, pending invites, active tokens and failed sign-ins of the last day.
    pub async fn dashboard(&self, caller: &Principal) -> Result<Dashboard, Error> {
        let store = &self.inner.store;
        let now = Utc::now();
        let user = store.user_by_id(caller.user_id).await?;
        let live_sessions = store.live_sessions(caller.user_id, now).await?.len() as u64;
        let tokens = store.tokens_of_user(caller.user_id).await?;
        let active: Vec<_> = tokens
            .iter()
            .filter(|t| status(t, now) == TokenStatus::Active)
            .collect();
        let next_expiring_token = active
            .iter()
            .filter_map(|t| t.expires_at.map(|at| (at, t)))
            .min_by_key(|(at, _)| *at)
            .map(|(at, t)| ExpiringToken {
                name: t.name.clone(),
                expires_at: seconds(at),
            });
        let admin = match require_admin(caller) {
            Ok(admin) => Some(self.admin_summary(&admin).await?),
            Err(_) => None,
        };
        Ok(Dashboard {
            last_login_at: user.and_then(|u| u.last_login_at).map(seconds),
            live_sessions,
            active_tokens: active.len() as u64,
            next_expiring_token,
            admin,
        })
    }

    async fn admin_summary(&self, _admin: &Admin) -> Result<AdminSummary, Error> {
        let store = &self.inner.store;
        let now = Utc::now();
        let invited = UserFilter {
            has_password: Some(false),
            active: Some(true),
            limit: 0,
            ..UserFilter::default()
        };
        let active_tokens = TokenFilter {
            status: Some(TokenStatus::Active),
            now,
            limit: 0,
            ..TokenFilter::default()
        };
        let failed = AuditFilter {
            action_prefix: Some(crate::audit::AUTH_LOGIN_FAILED.into()),
            since: Some(now - Duration::hours(24)),
            ..AuditFilter::default()
        };
        Ok(AdminSummary {
            users: store.count_users().await?,
            invited: store.list_users(&invited).await?.1,
            active_tokens: store.list_tokens(&active_tokens).await?.1,
            failed_logins_24h: store.count_audit(&failed).await?,
        })
    }
}
