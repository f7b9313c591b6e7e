//! Login sessions (`API.md` §4 and §5): yours, and for admins anyone's.

use crate::audit;
use crate::error::{Error, detail};
use crate::principal::Principal;
use crate::services::{ClientInfo, Services};
use crate::store::{SessionRecord, SessionSweep};
use crate::users::{require_admin, seconds};
use chrono::Utc;
use da_types::SessionInfo;
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
    fn own_session_id(caller: &Principal) -> Result<Uuid, Error> {
        caller
            .session_id()
            .ok_or_else(|| Error::Forbidden(detail::SESSION_REQUIRED.into()))
    }

    /// Live sessions with activity not yet flushed folded in, so "last active" is current.
    async fn live_sessions(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, Error> {
        self.flush_activity().await?;
        Ok(self.inner.store.live_sessions(user_id, Utc::now()).await?)
    }

    /// `GET /api/me/sessions`.
    pub async fn my_sessions(&self, caller: &Principal) -> Result<Vec<SessionInfo>, Error> {
        let current = Self::own_session_id(caller)?;
        let sessions = self.live_sessions(caller.user_id).await?;
        Ok(sessions
            .iter()
            .map(|s| session_view(s, Some(current)))
            .collect())
    }

    /// `DELETE /api/me/sessions/{id}`: 404 unless it is one of the caller's live sessions.
    pub async fn revoke_my_session(
        &self,
        caller: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        Self::own_session_id(caller)?;
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
                serde_json::json!({ "scope": "one", "device_label": session.device_label }),
            );
        self.inner
            .store
            .revoke_session(session.id, now, &row)
            .await?;
        self.inner.cache.mark_session_revoked(session.id);
        Ok(())
    }

    /// "Log out everywhere else": every session of the caller but this one; how many ended.
    pub async fn revoke_my_other_sessions(
        &self,
        caller: &Principal,
        client: &ClientInfo,
    ) -> Result<usize, Error> {
        let current = Self::own_session_id(caller)?;
        self.sweep_sessions(caller, caller.user_id, Some(current), client)
            .await
    }

    /// `GET /api/users/{id}/sessions`.
    pub async fn user_sessions(
        &self,
        caller: &Principal,
        user_id: Uuid,
    ) -> Result<Vec<SessionInfo>, Error> {
        require_admin(caller)?;
        self.get_user(caller, user_id).await?;
        let sessions = self.live_sessions(user_id).await?;
        Ok(sessions.iter().map(|s| session_view(s, None)).collect())
    }

    /// `DELETE /api/users/{id}/sessions`.
    pub async fn revoke_user_sessions(
        &self,
        caller: &Principal,
        user_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        require_admin(caller)?;
        self.get_user(caller, user_id).await?;
        self.sweep_sessions(caller, user_id, None, client).await?;
        Ok(())
    }

    async fn sweep_sessions(
        &self,
        caller: &Principal,
        user_id: Uuid,
        except: Option<Uuid>,
        client: &ClientInfo,
    ) -> Result<usize, Error> {
        let scope = if except.is_some() { "others" } else { "all" };
        let row = audit::record(audit::SESSION_REVOKE, format!("user:{user_id}"))
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "scope": scope }));
        let sweep = SessionSweep {
            at: Utc::now(),
            except,
        };
        let revoked = self
            .inner
            .store
            .revoke_user_sessions(user_id, sweep, &row)
            .await?;
        for id in &revoked {
            self.inner.cache.mark_session_revoked(*id);
        }
        Ok(revoked.len())
    }
}
