//! Login sessions (`API.md` §4 and §5): yours, and for admins anyone's.

use crate::audit;
use crate::cache::Invalidation;
use crate::error::{Error, detail};
use crate::params::seconds;
use crate::policy::{Admin, Interactive};
use crate::principal::Principal;
use crate::services::{ClientInfo, Services};
use crate::store::{SessionRecord, SessionSweep};
use chrono::Utc;
use da_types::SessionInfo;
use da_types::audit::scope;
use uuid::Uuid;

fn session_view(session: &SessionRecord, current: Option<Uuid>) -> SessionInfo {
    SessionInfo {
        id: session.id,
        device_label: session.device_label.clone(),
        ip: session.ip.clone(),
        created_at: seconds(session.created_at),
        last_active_at: seconds(session.last_active_at),
        expires_at: seconds(session.expires_at),
        current: current.map(|id| id == session.id),
    }
}

impl Services {
    /// Live sessions with activity not yet flushed folded in, so "last active" is current.
    async fn live_sessions(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, Error> {
        self.flush_activity().await?;
        Ok(self.inner.store.live_sessions(user_id, Utc::now()).await?)
    }

    /// `GET /api/me/sessions`.
    pub async fn my_sessions(&self, caller: &Interactive) -> Result<Vec<SessionInfo>, Error> {
        let current = caller.session_id();
        let sessions = self.live_sessions(caller.principal().user_id).await?;
        Ok(sessions
            .iter()
            .map(|s| session_view(s, Some(current)))
            .collect())
    }

    /// `DELETE /api/me/sessions/{id}`: 404 unless it is one of the caller's live sessions.
    pub async fn revoke_my_session(
        &self,
        caller: &Interactive,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let caller = caller.principal();
        let now = Utc::now();
        let session = self
            .inner
            .store
            .session_by_id(id)
            .await?
            .filter(|s| s.user_id == caller.user_id && s.revoked_at.is_none() && s.expires_at > now)
            .ok_or_else(|| Error::NotFound(detail::SESSION_NOT_FOUND.into()))?;
        let row = audit::record(audit::SESSION_REVOKE, format!("session:{}", session.id))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(
                serde_json::json!({ "scope": scope::ONE, "device_label": session.device_label }),
            );
        self.inner
            .store
            .revoke_session(session.id, now, &row)
            .await?;
        self.invalidate(&[Invalidation::Session(session.id)]).await;
        Ok(())
    }

    /// "Log out everywhere else": every session of the caller but this one; how many ended.
    pub async fn revoke_my_other_sessions(
        &self,
        caller: &Interactive,
        client: &ClientInfo,
    ) -> Result<usize, Error> {
        let (principal, current) = (caller.principal(), caller.session_id());
        self.sweep_sessions(principal, principal.user_id, Some(current), client)
            .await
    }

    /// `GET /api/users/{id}/sessions`.
    pub async fn user_sessions(
        &self,
        admin: &Admin,
        user_id: Uuid,
    ) -> Result<Vec<SessionInfo>, Error> {
        self.get_user(admin, user_id).await?;
        let sessions = self.live_sessions(user_id).await?;
        Ok(sessions.iter().map(|s| session_view(s, None)).collect())
    }

    /// `DELETE /api/users/{id}/sessions`.
    pub async fn revoke_user_sessions(
        &self,
        admin: &Admin,
        user_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        self.get_user(admin, user_id).await?;
        self.sweep_sessions(admin.principal(), user_id, None, client)
            .await?;
        Ok(())
    }

    async fn sweep_sessions(
        &self,
        caller: &Principal,
        user_id: Uuid,
        except: Option<Uuid>,
        client: &ClientInfo,
    ) -> Result<usize, Error> {
        let sweep_scope = if except.is_some() {
            scope::OTHERS
        } else {
            scope::ALL
        };
        let row = audit::record(audit::SESSION_REVOKE, format!("user:{user_id}"))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "scope": sweep_scope }));
        let sweep = SessionSweep {
            at: Utc::now(),
            except,
        };
        let revoked = self
            .inner
            .store
            .revoke_user_sessions(user_id, sweep, &row)
            .await?;
        let stale: Vec<Invalidation> = revoked.iter().copied().map(Invalidation::Session).collect();
        self.invalidate(&stale).await;
        Ok(revoked.len())
    }
}
