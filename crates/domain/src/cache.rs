//! The in-memory view of what the hot authentication path needs: users and sessions.
//!
//! A hit costs a hash-map read, no database round trip. Every service call that changes a user
//! or a session updates this cache in the same call (after its store write succeeded), so a
//! revocation is seen by the very next request. A miss loads from the store and fills in.
//! Absent rows are cached too (`None`), so a deleted user's token cannot hammer the store.

use chrono::{DateTime, Utc};
use da_types::Role;
use std::collections::HashMap;
use std::sync::RwLock;
use uuid::Uuid;

use crate::store::{SessionRecord, TokenRecord, UserRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRecord> for CachedUser {
    fn from(user: &UserRecord) -> Self {
        CachedUser {
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            active: user.active,
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedSession {
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

impl From<&SessionRecord> for CachedSession {
    fn from(session: &SessionRecord) -> Self {
        CachedSession {
            user_id: session.user_id,
            expires_at: session.expires_at,
            revoked: session.revoked_at.is_some(),
        }
    }
}

/// What the hot path needs of a personal access token, keyed by the token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Option<Role>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// The IP of the latest use seen, to notice the first use from a new one.
    pub last_ip: Option<String>,
}

impl From<&TokenRecord> for CachedToken {
    fn from(token: &TokenRecord) -> Self {
        CachedToken {
            id: token.id,
            user_id: token.user_id,
            role: token.role,
            expires_at: token.expires_at,
            revoked: token.revoked_at.is_some(),
            last_ip: token.last_used_ip.clone(),
        }
    }
}

#[derive(Default)]
pub struct AuthCache {
    users: RwLock<HashMap<Uuid, Option<CachedUser>>>,
    sessions: RwLock<HashMap<Uuid, Option<CachedSession>>>,
    /// Known tokens only (unknown hashes are not cached: anyone can mint well-formed garbage).
    tokens: RwLock<HashMap<String, CachedToken>>,
    token_hashes: RwLock<HashMap<Uuid, String>>,
}

impl AuthCache {
    /// `Some(None)` is a cached "no such user"; `None` is a miss.
    pub fn user(&self, id: Uuid) -> Option<Option<CachedUser>> {
        read(&self.users).get(&id).cloned()
    }

    pub fn put_user(&self, id: Uuid, user: Option<CachedUser>) {
        write(&self.users).insert(id, user);
    }

    pub fn session(&self, id: Uuid) -> Option<Option<CachedSession>> {
        read(&self.sessions).get(&id).copied()
    }

    pub fn put_session(&self, id: Uuid, session: Option<CachedSession>) {
        write(&self.sessions).insert(id, session);
    }

    pub fn mark_session_revoked(&self, id: Uuid) {
        if let Some(Some(session)) = write(&self.sessions).get_mut(&id) {
            session.revoked = true;
        }
    }

    /// Drops sessions that can never authenticate again, so the map stays bounded by the
    /// number of live sessions.
    pub fn prune_sessions(&self, now: DateTime<Utc>) {
        write(&self.sessions).retain(|_, session| match session {
            Some(s) => s.expires_at > now,
            None => false,
        });
    }

    pub fn token(&self, hash: &str) -> Option<CachedToken> {
        read(&self.tokens).get(hash).cloned()
    }

    pub fn put_token(&self, hash: &str, token: CachedToken) {
        write(&self.token_hashes).insert(token.id, hash.to_owned());
        write(&self.tokens).insert(hash.to_owned(), token);
    }

    pub fn mark_token_revoked(&self, id: Uuid) {
        let Some(hash) = read(&self.token_hashes).get(&id).cloned() else {
            return;
        };
        if let Some(token) = write(&self.tokens).get_mut(&hash) {
            token.revoked = true;
        }
    }

    /// Records the IP of a use; returns the previous one when it differs (not on a first use).
    pub fn note_token_ip(&self, hash: &str, ip: Option<&str>) -> Option<String> {
        let ip = ip?;
        // The common case (same IP as last time) only needs the read lock.
        if read(&self.tokens)
            .get(hash)
            .is_some_and(|t| t.last_ip.as_deref() == Some(ip))
        {
            return None;
        }
        let mut tokens = write(&self.tokens);
        let token = tokens.get_mut(hash)?;
        match token.last_ip.replace(ip.to_owned()) {
            Some(previous) if previous != ip => Some(previous),
            _ => None,
        }
    }

    pub fn session_count(&self) -> usize {
        read(&self.sessions).len()
    }
}

// A poisoned lock only means another thread panicked mid-update of a plain map; the data is
// still a valid map, so carry on rather than take the whole server down.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn revocation_is_visible_immediately_and_expired_sessions_are_pruned() {
        let cache = AuthCache::default();
        let now = Utc::now();
        let (live, old) = (Uuid::new_v4(), Uuid::new_v4());
        let session = |expires_at| CachedSession {
            user_id: Uuid::new_v4(),
            expires_at,
            revoked: false,
        };
        cache.put_session(live, Some(session(now + Duration::hours(1))));
        cache.put_session(old, Some(session(now - Duration::seconds(1))));
        cache.put_session(Uuid::new_v4(), None);

        cache.mark_session_revoked(live);
        assert!(cache.session(live).unwrap().unwrap().revoked);

        cache.prune_sessions(now);
        assert_eq!(cache.session_count(), 1);
        assert!(cache.session(old).is_none());
    }
}
