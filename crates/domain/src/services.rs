//! The [`Services`] handle every surface holds, its configuration, and the pieces of state all
//! services share: the auth cache (filled and invalidated only here), the hasher, the brakes.

use crate::brakes::{Brakes, IpLimits, RateLimitConfig};
use crate::cache::{AuthCache, CachedGroup, CachedSession, CachedUser, Invalidation};
use crate::checksum::ChecksumCache;
use crate::error::Error;
use crate::jwt::SessionKeys;
use crate::mail::Mailer;
use crate::password_hash::PasswordHasher;
use crate::store::{Store, TokenRecord};
use crate::usage::ActivityLog;
use chrono::Utc;
use da_types::Role;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Clone)]
pub struct ServicesConfig {
    /// HS256 key for session JWTs (at least 32 bytes; the server checks).
    pub jwt_secret: Vec<u8>,
    /// Lifetime of a login session.
    pub session_hours: i64,
    /// Lifetime of a CLI session's access token (`DA_CLI_ACCESS_SECONDS`).
    pub cli_access_seconds: i64,
    /// A CLI session ends after this many days without a refresh (`DA_CLI_REFRESH_DAYS`).
    pub cli_refresh_days: i64,
    /// `DA_LEAK_REPORT_SECRET`: lets a secret scanner report leaked tokens.
    pub leak_report_secret: Option<String>,
    /// Unlocks `/auth/bootstrap` after the first admin exists.
    pub bootstrap_token: Option<String>,
    /// How many Argon2id hashes may run at once.
    pub hash_concurrency: usize,
    /// `DA_PUBLIC_URL`: the base of every mailed link, and of links and scripts handed out.
    pub public_url: Option<String>,
    pub rate_limits: RateLimitConfig,
    /// Admin cap on personal access token lifetime, in days (`DA_PAT_MAX_DAYS`).
    pub pat_max_days: Option<i64>,
    /// Where the `da` binary to distribute lives (`DA_CLI_DIST_DIR`); `None` ships none.
    pub cli_dist_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for ServicesConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicesConfig")
            .field("jwt_secret", &"<redacted>")
            .field("session_hours", &self.session_hours)
            .field("cli_access_seconds", &self.cli_access_seconds)
            .field("cli_refresh_days", &self.cli_refresh_days)
            .field(
                "leak_report_secret",
                &self.leak_report_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "bootstrap_token",
                &self.bootstrap_token.as_ref().map(|_| "<redacted>"),
            )
            .field("hash_concurrency", &self.hash_concurrency)
            .field("public_url", &self.public_url)
            .field("rate_limits", &self.rate_limits)
            .field("pat_max_days", &self.pat_max_days)
            .field("cli_dist_dir", &self.cli_dist_dir)
            .finish()
    }
}

/// Where a request came from, for sessions and audit rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `scheme://host[:port]` the request was addressed to, when the Host header is sane.
    pub origin: Option<String>,
}

/// The business layer. Cheap to clone; all clones share one cache and one store.
#[derive(Clone)]
pub struct Services {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub cache: AuthCache,
    pub hasher: PasswordHasher,
    pub keys: SessionKeys,
    pub config: ServicesConfig,
    pub session_activity: ActivityLog,
    pub token_activity: ActivityLog,
    pub mailer: Option<Arc<dyn Mailer>>,
    pub ip_limits: IpLimits,
    pub brakes: Brakes,
    pub cli_checksum: ChecksumCache,
    /// Single sign-on, when configured.
    pub oidc: Option<crate::oidc::RelyingParty>,
    /// Datasets and queries, when configured (the server always does).
    pub data: Option<crate::data::Data>,
    pub catalog: crate::data::Catalog,
}

impl Services {
    /// `mailer` carries reset and invite links; without one, links are only handed to admins.
    /// `oidc` enables single sign-on; `data`, datasets and queries.
    pub fn new(
        store: Arc<dyn Store>,
        config: ServicesConfig,
        mailer: Option<Arc<dyn Mailer>>,
        oidc: Option<crate::oidc::Oidc>,
        data: Option<crate::data::Data>,
    ) -> Self {
        let oidc = oidc.map(|o| crate::oidc::RelyingParty::new(o, &config.jwt_secret));
        let remote = store.remote_changes();
        let services = Services {
            inner: Arc::new(Inner {
                store,
                cache: AuthCache::default(),
                hasher: PasswordHasher::new(config.hash_concurrency),
                keys: SessionKeys::new(&config.jwt_secret),
                ip_limits: IpLimits::new(config.rate_limits),
                config,
                session_activity: ActivityLog::default(),
                token_activity: ActivityLog::default(),
                mailer,
                brakes: Brakes::default(),
                cli_checksum: ChecksumCache::default(),
                oidc,
                data,
                catalog: Default::default(),
            }),
        };
        if let Some(remote) = remote {
            // Nothing cached is trusted until the channel to the other replicas is up.
            services.inner.cache.suspend();
            services.inner.catalog.suspend(true);
            tokio::spawn(follow_replicas(Arc::downgrade(&services.inner), remote));
        }
        services
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The one door through which cached state (the auth cache, the dataset catalog) is
    /// declared stale, after the store write that changed it: here, then on every other
    /// replica sharing the database.
    pub(crate) async fn invalidate(&self, items: &[Invalidation]) {
        apply_stale(&self.inner, items);
        self.tell_replicas(items).await;
    }

    /// Tells the other replicas only (this one's cache was written through already). A
    /// failure is logged, not raised: the write has committed, and a replica whose channel
    /// failed with it resyncs when the channel is back.
    pub(crate) async fn tell_replicas(&self, items: &[Invalidation]) {
        if let Err(err) = self.inner.store.broadcast(items).await {
            tracing::warn!(error = %err, "cannot tell the other replicas of a change");
        }
    }

    /// The user (with their groups) as the auth path sees it: cache first, store on a miss.
    pub(crate) async fn cached_user(&self, id: Uuid) -> Result<Option<CachedUser>, Error> {
        if let Some(hit) = self.inner.cache.user(id) {
            return Ok(hit);
        }
        let ticket = self.inner.cache.ticket();
        let Some(user) = self.inner.store.user_by_id(id).await? else {
            self.inner.cache.fill_user(&ticket, id, None);
            return Ok(None);
        };
        let groups = self.inner.store.groups_of_user(id).await?;
        // The groups came with the read: cache them too (same ticket, same rules).
        for (group, _) in &groups {
            self.inner
                .cache
                .fill_group(&ticket, group.id, Some(CachedGroup::from(group)));
        }
        let cached = CachedUser::new(&user, groups.iter().map(|(g, _)| g.id).collect());
        self.inner
            .cache
            .fill_user(&ticket, id, Some(cached.clone()));
        Ok(Some(cached))
    }

    /// A group as the auth path sees it; `None` for one that no longer exists.
    pub(crate) async fn cached_group(&self, id: Uuid) -> Result<Option<CachedGroup>, Error> {
        if let Some(hit) = self.inner.cache.group(id) {
            return Ok(hit);
        }
        let ticket = self.inner.cache.ticket();
        let group = self.inner.store.group_by_id(id).await?;
        let cached = group.as_ref().map(CachedGroup::from);
        self.inner.cache.fill_group(&ticket, id, cached.clone());
        Ok(cached)
    }

    /// The highest of the user's own role and their groups' roles (a few map reads on a warm
    /// cache).
    pub(crate) async fn effective_role(&self, user: &CachedUser) -> Result<Role, Error> {
        let mut role = user.role;
        for id in &user.groups {
            let granted = self.cached_group(*id).await?.and_then(|g| g.role);
            role = crate::principal::effective_role(role, granted);
        }
        Ok(role)
    }

    pub(crate) async fn cached_session(&self, id: Uuid) -> Result<Option<CachedSession>, Error> {
        if let Some(hit) = self.inner.cache.session(id) {
            return Ok(hit);
        }
        let ticket = self.inner.cache.ticket();
        let session = self.inner.store.session_by_id(id).await?;
        let cached = session.as_ref().map(CachedSession::from);
        self.inner.cache.fill_session(&ticket, id, cached);
        Ok(cached)
    }

    /// The token with this hash as the auth path sees it; unknown hashes are not cached.
    pub(crate) async fn cached_token(
        &self,
        hash: &str,
    ) -> Result<Option<crate::cache::CachedToken>, Error> {
        if let Some(hit) = self.inner.cache.token(hash) {
            return Ok(Some(hit));
        }
        let ticket = self.inner.cache.ticket();
        let Some(record): Option<TokenRecord> = self.inner.store.token_by_hash(hash).await? else {
            return Ok(None);
        };
        self.inner.cache.fill_token(&ticket, hash, &record);
        Ok(Some(crate::cache::CachedToken::from(&record)))
    }

    /// Writes the batched "last active" (sessions) and "last used" (tokens) stamps; a failed
    /// batch is kept for the next round.
    pub async fn flush_activity(&self) -> Result<usize, Error> {
        let mut count = 0;
        let sessions = self.inner.session_activity.drain();
        if !sessions.is_empty() {
            count += sessions.len();
            if let Err(err) = self.inner.store.touch_sessions(&sessions).await {
                self.inner.session_activity.restore(sessions);
                return Err(err.into());
            }
        }
        let tokens = self.inner.token_activity.drain();
        if !tokens.is_empty() {
            count += tokens.len();
            if let Err(err) = self.inner.store.touch_tokens(&tokens).await {
                self.inner.token_activity.restore(tokens);
                return Err(err.into());
            }
        }
        Ok(count)
    }

    /// Periodic housekeeping of in-memory state.
    pub fn prune(&self) {
        self.inner.cache.prune(Utc::now());
        self.inner.ip_limits.prune();
        self.inner.brakes.prune(std::time::Instant::now());
    }

    /// This server's base URL for links handed to an admin and for install scripts:
    /// `DA_PUBLIC_URL` when set, else the origin the request came to (when its Host header was
    /// sane). Mailed links never use the request's origin (see `mail_link`).
    pub(crate) fn public_base_url<'a>(&'a self, client: &'a ClientInfo) -> Option<&'a str> {
        self.inner
            .config
            .public_url
            .as_deref()
            .or(client.origin.as_deref())
    }
}

fn apply_stale(inner: &Inner, items: &[Invalidation]) {
    inner.cache.invalidate(items);
    if items.contains(&Invalidation::Datasets) {
        inner.catalog.forget();
    }
}

/// How long a cached entry lives at most with other replicas about: a change whose
/// announcement never went out (its replica died between commit and broadcast) applies
/// everywhere within this.
const REMOTE_CACHE_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// Applies what the other replicas change, for as long as these services live.
async fn follow_replicas(
    inner: std::sync::Weak<Inner>,
    mut remote: tokio::sync::broadcast::Receiver<crate::store::RemoteChange>,
) {
    use crate::store::RemoteChange;
    use tokio::sync::broadcast::error::RecvError;
    let mut refresh = tokio::time::interval(REMOTE_CACHE_REFRESH);
    refresh.tick().await;
    // While the channel is down (and until it first comes up) the cache stays suspended,
    // whatever else comes in.
    let mut lost = true;
    loop {
        let change = tokio::select! {
            change = remote.recv() => Some(change),
            _ = refresh.tick() => None,
        };
        let Some(inner) = inner.upgrade() else { return };
        match change {
            None if lost => {}
            None => {
                inner.cache.invalidate_all();
                inner.catalog.forget();
            }
            Some(Ok(RemoteChange::Stale(items))) => apply_stale(&inner, &items),
            Some(Ok(RemoteChange::Password(news))) => {
                inner.brakes.heard(&news, std::time::Instant::now());
            }
            Some(Ok(RemoteChange::Lost)) => {
                tracing::warn!(
                    "lost the channel to the other replicas: every lookup reads the database until it is back"
                );
                lost = true;
                inner.cache.suspend();
                inner.catalog.suspend(true);
            }
            Some(Ok(RemoteChange::Resync)) => {
                lost = false;
                inner.cache.invalidate_all();
                inner.catalog.suspend(false);
            }
            // Missed messages: whatever they said, nothing cached is trusted.
            Some(Err(RecvError::Lagged(missed))) => {
                tracing::warn!(missed, "fell behind the other replicas' changes: resyncing");
                if lost {
                    inner.cache.suspend();
                } else {
                    inner.cache.invalidate_all();
                }
                inner.catalog.forget();
            }
            Some(Err(RecvError::Closed)) => return,
        }
    }
}
