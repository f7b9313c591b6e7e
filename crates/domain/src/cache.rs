//! The in-memory view of what the hot authentication path needs: users, sessions and tokens.
//!
//! A hit costs a hash-map read, no database round trip. Correctness rests on generations:
//!
//! - Every change that could make an entry stale ([`Invalidation`]) is applied *after* its
//!   store write committed, and stamps the entry's slot with a new generation from one clock.
//!   The slot stays behind as a tombstone even when nothing was cached for that key.
//! - A fill takes a [`FillTicket`] (the clock's value) *before* it reads the store, and its
//!   result is kept only if no invalidation of that key came after the ticket. So a read that
//!   raced a revoke can never put the stale "valid" answer back after the revoke was applied.
//! - A write may put what it wrote straight into the cache ([`AuthCache::write_through`]) only
//!   if nothing else changed the key since the ticket it took before writing.
//!
//! The same [`Invalidation`] values are what a multi-replica deployment sends between nodes;
//! [`AuthCache::invalidate_all`] is the resync after a lost invalidation channel.

use chrono::{DateTime, Utc};
use da_types::Role;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use uuid::Uuid;

pub use crate::store::Invalidation;
use crate::store::{GroupRecord, SessionRecord, TokenRecord, UserRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedUser {
    pub email: String,
    pub name: String,
    /// The own role; the effective one adds the groups' (looked up per request).
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The groups the user is in.
    pub groups: Vec<Uuid>,
    /// Signs in through single sign-on.
    pub sso: bool,
}

impl CachedUser {
    pub fn new(user: &UserRecord, groups: Vec<Uuid>) -> Self {
        CachedUser {
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            active: user.active,
            created_at: user.created_at,
            groups,
            sso: user.sso,
        }
    }
}

/// What the auth path needs of a group: the role it grants (and its name, for `/api/me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedGroup {
    pub name: String,
    pub role: Option<Role>,
}

impl From<&GroupRecord> for CachedGroup {
    fn from(group: &GroupRecord) -> Self {
        CachedGroup {
            name: group.name.clone(),
            role: group.role,
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

/// What the hot path needs of a personal access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Option<Role>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

impl From<&TokenRecord> for CachedToken {
    fn from(token: &TokenRecord) -> Self {
        CachedToken {
            id: token.id,
            user_id: token.user_id,
            role: token.role,
            expires_at: token.expires_at,
            revoked: token.revoked_at.is_some(),
        }
    }
}

/// A cache entry and the generation of the last change that touched it. `value: None` is a
/// tombstone: the key changed, and the next lookup must read the store.
struct Slot<T> {
    generation: u64,
    value: Option<T>,
}

#[derive(Default)]
struct Tokens {
    by_id: HashMap<Uuid, Slot<CachedToken>>,
    /// SHA-256 → id. A hash names one token forever, so this never goes stale.
    ids: HashMap<String, Uuid>,
}

#[derive(Default)]
pub struct AuthCache {
    clock: AtomicU64,
    /// Fills with a ticket below this are discarded (set by [`AuthCache::invalidate_all`]).
    floor: AtomicU64,
    /// `Some(None)` is a cached "no such user".
    users: RwLock<HashMap<Uuid, Slot<Option<CachedUser>>>>,
    sessions: RwLock<HashMap<Uuid, Slot<Option<CachedSession>>>>,
    /// `Some(None)` is a cached "no such group".
    groups: RwLock<HashMap<Uuid, Slot<Option<CachedGroup>>>>,
    /// Known tokens only: unknown hashes are not cached (anyone can mint well-formed garbage).
    tokens: RwLock<Tokens>,
    /// The IP of each token's latest use, to notice the first use from a new one. Not state
    /// that invalidations concern.
    token_ips: RwLock<HashMap<Uuid, String>>,
    /// Tickets of fills in flight (ticket → how many), so tombstones are dropped only when no
    /// fill that could be stale is still running.
    fills: Mutex<BTreeMap<u64, usize>>,
}

/// Taken before a store read that will fill the cache; see the module docs.
pub struct FillTicket<'a> {
    cache: &'a AuthCache,
    generation: u64,
}

impl Drop for FillTicket<'_> {
    fn drop(&mut self) {
        let mut fills = lock(&self.cache.fills);
        if let Some(count) = fills.get_mut(&self.generation) {
            *count -= 1;
            if *count == 0 {
                fills.remove(&self.generation);
            }
        }
    }
}

impl FillTicket<'_> {
    fn admits<T>(&self, slot: Option<&Slot<T>>) -> bool {
        self.generation >= self.cache.floor.load(Ordering::SeqCst)
            && slot.is_none_or(|slot| slot.generation <= self.generation)
    }
}

/// Where a write-through leaves a slot: the written value under a new generation, or a
/// tombstone when something else changed the key since `ticket`.
fn write_slot<T>(slot: &mut Slot<T>, ticket: &FillTicket<'_>, generation: u64, value: T) {
    let untouched = ticket.admits(Some(&*slot));
    slot.generation = slot.generation.max(generation);
    slot.value = untouched.then_some(value);
}

fn tombstone<T>(slot: &mut Slot<T>, generation: u64) {
    slot.generation = slot.generation.max(generation);
    slot.value = None;
}

impl AuthCache {
    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Take this before reading the store for a fill or a write-through.
    pub fn ticket(&self) -> FillTicket<'_> {
        let mut fills = lock(&self.fills);
        let generation = self.clock.load(Ordering::SeqCst);
        *fills.entry(generation).or_default() += 1;
        FillTicket {
            cache: self,
            generation,
        }
    }

    /// Marks keys stale. Call after the store write that changed them committed.
    pub fn invalidate(&self, items: &[Invalidation]) {
        for item in items {
            let generation = self.tick();
            match *item {
                Invalidation::User(id) => tombstone(
                    write(&self.users).entry(id).or_insert(Slot {
                        generation,
                        value: None,
                    }),
                    generation,
                ),
                Invalidation::Session(id) => tombstone(
                    write(&self.sessions).entry(id).or_insert(Slot {
                        generation,
                        value: None,
                    }),
                    generation,
                ),
                Invalidation::Token(id) => tombstone(
                    write(&self.tokens).by_id.entry(id).or_insert(Slot {
                        generation,
                        value: None,
                    }),
                    generation,
                ),
                Invalidation::Group(id) => tombstone(
                    write(&self.groups).entry(id).or_insert(Slot {
                        generation,
                        value: None,
                    }),
                    generation,
                ),
                Invalidation::Datasets => {}
            }
        }
    }

    /// Forgets everything and refuses every fill that started before: after an invalidation
    /// may have been lost (another replica's message dropped), nothing cached is trusted.
    pub fn invalidate_all(&self) {
        let generation = self.tick();
        self.floor.store(generation, Ordering::SeqCst);
        write(&self.users).clear();
        write(&self.sessions).clear();
        write(&self.groups).clear();
        write(&self.tokens).by_id.clear();
    }

    /// Forgets everything and keeps nothing more until the next [`AuthCache::invalidate_all`]:
    /// while invalidations may be going unheard, every lookup reads the store.
    pub fn suspend(&self) {
        self.tick();
        self.floor.store(u64::MAX, Ordering::SeqCst);
        write(&self.users).clear();
        write(&self.sessions).clear();
        write(&self.groups).clear();
        write(&self.tokens).by_id.clear();
    }

    /// `Some(None)` is a cached "no such user"; `None` is a miss.
    pub fn user(&self, id: Uuid) -> Option<Option<CachedUser>> {
        read(&self.users)
            .get(&id)
            .and_then(|slot| slot.value.clone())
    }

    /// Caches what a store read begun after `ticket` found, unless the user changed since.
    pub fn fill_user(&self, ticket: &FillTicket<'_>, id: Uuid, user: Option<CachedUser>) {
        let mut users = write(&self.users);
        if ticket.admits(users.get(&id)) {
            users.insert(
                id,
                Slot {
                    generation: ticket.generation,
                    value: Some(user),
                },
            );
        }
    }

    /// Caches a user as a write left it, unless anything else changed the user since `ticket`
    /// (taken before the write): then the entry becomes a tombstone and the next request reads
    /// the store.
    pub fn write_through_user(&self, ticket: &FillTicket<'_>, id: Uuid, user: Option<CachedUser>) {
        let generation = self.tick();
        let mut users = write(&self.users);
        // A key nobody touched since the ticket starts at the ticket's generation, so the
        // write lands; a key someone changed since keeps its newer generation and refuses it.
        let slot = users.entry(id).or_insert(Slot {
            generation: ticket.generation,
            value: None,
        });
        write_slot(slot, ticket, generation, user);
    }

    pub fn group(&self, id: Uuid) -> Option<Option<CachedGroup>> {
        read(&self.groups)
            .get(&id)
            .and_then(|slot| slot.value.clone())
    }

    pub fn fill_group(&self, ticket: &FillTicket<'_>, id: Uuid, group: Option<CachedGroup>) {
        let mut groups = write(&self.groups);
        if ticket.admits(groups.get(&id)) {
            groups.insert(
                id,
                Slot {
                    generation: ticket.generation,
                    value: Some(group),
                },
            );
        }
    }

    pub fn session(&self, id: Uuid) -> Option<Option<CachedSession>> {
        read(&self.sessions).get(&id).and_then(|slot| slot.value)
    }

    pub fn fill_session(&self, ticket: &FillTicket<'_>, id: Uuid, session: Option<CachedSession>) {
        let mut sessions = write(&self.sessions);
        if ticket.admits(sessions.get(&id)) {
            sessions.insert(
                id,
                Slot {
                    generation: ticket.generation,
                    value: Some(session),
                },
            );
        }
    }

    /// The token with this SHA-256, when cached.
    pub fn token(&self, hash: &str) -> Option<CachedToken> {
        let tokens = read(&self.tokens);
        let id = tokens.ids.get(hash)?;
        tokens.by_id.get(id)?.value.clone()
    }

    pub fn fill_token(&self, ticket: &FillTicket<'_>, hash: &str, token: &TokenRecord) {
        {
            let mut tokens = write(&self.tokens);
            tokens.ids.insert(hash.to_owned(), token.id);
            if ticket.admits(tokens.by_id.get(&token.id)) {
                tokens.by_id.insert(
                    token.id,
                    Slot {
                        generation: ticket.generation,
                        value: Some(CachedToken::from(token)),
                    },
                );
            }
        }
        if let Some(ip) = &token.last_used_ip {
            write(&self.token_ips)
                .entry(token.id)
                .or_insert_with(|| ip.clone());
        }
    }

    /// Records the IP of a use; returns the previous one when it differs (not on a first use).
    pub fn note_token_ip(&self, id: Uuid, ip: Option<&str>) -> Option<String> {
        let ip = ip?;
        // The common case (same IP as last time) only needs the read lock.
        if read(&self.token_ips)
            .get(&id)
            .is_some_and(|last| last == ip)
        {
            return None;
        }
        match write(&self.token_ips).insert(id, ip.to_owned()) {
            Some(previous) if previous != ip => Some(previous),
            _ => None,
        }
    }

    /// Periodic housekeeping: drops sessions that can never authenticate again, and tombstones
    /// no running fill can still race, so the maps stay bounded by live data.
    pub fn prune(&self, now: DateTime<Utc>) {
        // Read under the fills lock, like `ticket` reads the clock: every fill that starts from
        // here on has a ticket at or above the horizon, so it cannot be staler than a tombstone
        // below it; tombstones made after this moment are above it and stay.
        let horizon = {
            let fills = lock(&self.fills);
            fills
                .keys()
                .next()
                .copied()
                .unwrap_or_else(|| self.clock.load(Ordering::SeqCst))
        };
        let droppable = |generation: u64| generation <= horizon;
        write(&self.sessions).retain(|_, slot| match slot.value {
            Some(Some(session)) => session.expires_at > now,
            Some(None) => false,
            None => !droppable(slot.generation),
        });
        write(&self.users).retain(|_, slot| slot.value.is_some() || !droppable(slot.generation));
        write(&self.groups).retain(|_, slot| slot.value.is_some() || !droppable(slot.generation));
        write(&self.tokens)
            .by_id
            .retain(|_, slot| slot.value.is_some() || !droppable(slot.generation));
    }

    /// Entries (tombstones included) per map: users, sessions, tokens, groups.
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        (
            read(&self.users).len(),
            read(&self.sessions).len(),
            read(&self.tokens).by_id.len(),
            read(&self.groups).len(),
        )
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn session(expires_at: DateTime<Utc>, revoked: bool) -> CachedSession {
        CachedSession {
            user_id: Uuid::nil(),
            expires_at,
            revoked,
        }
    }

    fn user(active: bool) -> CachedUser {
        CachedUser {
            email: "a@b.c".into(),
            name: "a".into(),
            role: Role::Analyst,
            active,
            created_at: DateTime::UNIX_EPOCH,
            groups: Vec::new(),
            sso: false,
        }
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_of_an_uncached_key_is_discarded() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        let later = Utc::now() + Duration::hours(1);
        // The fill reads "valid" from the store…
        let ticket = cache.ticket();
        // …the revoke commits and invalidates a key nobody had cached…
        cache.invalidate(&[Invalidation::Session(id)]);
        // …and the fill's stale answer must not land.
        cache.fill_session(&ticket, id, Some(session(later, false)));
        assert_eq!(
            cache.session(id),
            None,
            "a miss: the next request reads the store"
        );
        drop(ticket);
        // A fill that starts after the invalidation is kept.
        let ticket = cache.ticket();
        cache.fill_session(&ticket, id, Some(session(later, true)));
        assert_eq!(cache.session(id), Some(Some(session(later, true))));
    }

    #[test]
    fn a_suspended_cache_keeps_nothing_until_resynced() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        let ticket = cache.ticket();
        cache.fill_user(&ticket, id, Some(user(true)));
        drop(ticket);
        assert!(cache.user(id).is_some());
        // The channel to the other replicas is lost: what was cached goes, nothing new stays.
        cache.suspend();
        assert_eq!(cache.user(id), None);
        let ticket = cache.ticket();
        cache.fill_user(&ticket, id, Some(user(true)));
        cache.write_through_user(&ticket, id, Some(user(true)));
        drop(ticket);
        assert_eq!(cache.user(id), None, "every lookup reads the store");
        // Back: fills that start now are kept; one that began while suspended is not.
        let stale = cache.ticket();
        cache.invalidate_all();
        cache.fill_user(&stale, id, Some(user(false)));
        assert_eq!(cache.user(id), None);
        let ticket = cache.ticket();
        cache.fill_user(&ticket, id, Some(user(true)));
        assert_eq!(cache.user(id), Some(Some(user(true))));
    }

    #[test]
    fn fills_that_started_after_the_last_change_are_kept() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        cache.invalidate(&[Invalidation::User(id)]);
        let ticket = cache.ticket();
        cache.fill_user(&ticket, id, Some(user(true)));
        assert_eq!(cache.user(id), Some(Some(user(true))));
    }

    #[test]
    fn a_write_through_loses_to_a_change_after_its_ticket() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        // Two writes race: A takes its ticket, B writes and writes through, then A.
        let ticket_a = cache.ticket();
        let ticket_b = cache.ticket();
        cache.write_through_user(&ticket_b, id, Some(user(false)));
        cache.write_through_user(&ticket_a, id, Some(user(true)));
        assert_eq!(
            cache.user(id),
            None,
            "unsure which came last: read the store"
        );
        // Alone, a write-through is a hit, and an older fill cannot overwrite it.
        let stale_fill = cache.ticket();
        let ticket = cache.ticket();
        cache.write_through_user(&ticket, id, Some(user(false)));
        assert_eq!(cache.user(id), Some(Some(user(false))));
        cache.fill_user(&stale_fill, id, Some(user(true)));
        assert_eq!(cache.user(id), Some(Some(user(false))));
    }

    #[test]
    fn tokens_are_found_by_hash_and_invalidated_by_id() {
        let cache = AuthCache::default();
        let now = Utc::now();
        let record = TokenRecord {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            name: "t".into(),
            prefix: "da_pat_abcde".into(),
            token_hash: "h".into(),
            role: None,
            created_at: now,
            expires_at: None,
            last_used_at: None,
            last_used_ip: Some("10.0.0.1".into()),
            revoked_at: None,
        };
        let ticket = cache.ticket();
        cache.invalidate(&[Invalidation::Token(record.id)]);
        cache.fill_token(&ticket, "h", &record);
        assert_eq!(cache.token("h"), None);
        drop(ticket);
        let ticket = cache.ticket();
        cache.fill_token(&ticket, "h", &record);
        assert_eq!(cache.token("h").unwrap().id, record.id);
        cache.invalidate(&[Invalidation::Token(record.id)]);
        assert_eq!(cache.token("h"), None);
        // The last IP came from the store and survives invalidation.
        assert_eq!(cache.note_token_ip(record.id, Some("10.0.0.1")), None);
        assert_eq!(
            cache.note_token_ip(record.id, Some("10.0.0.2")).as_deref(),
            Some("10.0.0.1")
        );
    }

    #[test]
    fn a_tombstone_made_after_pruning_began_survives_it() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        // No fill runs; prune will look at the clock.
        cache.prune(Utc::now());
        let ticket = cache.ticket();
        cache.invalidate(&[Invalidation::Token(id)]);
        // Another prune while the fill is in flight must keep the tombstone…
        cache.prune(Utc::now());
        let record = TokenRecord {
            id,
            user_id: Uuid::new_v4(),
            name: "t".into(),
            prefix: "da_pat_abcde".into(),
            token_hash: "h".into(),
            role: None,
            created_at: Utc::now(),
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        };
        cache.fill_token(&ticket, "h", &record);
        // …so the stale fill is refused.
        assert_eq!(cache.token("h"), None);
    }

    #[test]
    fn a_write_through_of_a_cold_key_lands() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        let ticket = cache.ticket();
        cache.write_through_user(&ticket, id, Some(user(true)));
        assert_eq!(cache.user(id), Some(Some(user(true))));
    }

    #[test]
    fn invalidate_all_refuses_fills_that_began_before_it() {
        let cache = AuthCache::default();
        let id = Uuid::new_v4();
        let ticket = cache.ticket();
        cache.invalidate_all();
        cache.fill_user(&ticket, id, Some(user(true)));
        assert_eq!(cache.user(id), None);
    }

    #[test]
    fn pruning_drops_dead_sessions_and_tombstones_no_fill_can_race() {
        let cache = AuthCache::default();
        let now = Utc::now();
        let (live, old, gone) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ticket = cache.ticket();
        cache.fill_session(
            &ticket,
            live,
            Some(session(now + Duration::hours(1), false)),
        );
        cache.fill_session(
            &ticket,
            old,
            Some(session(now - Duration::seconds(1), false)),
        );
        cache.fill_session(&ticket, Uuid::new_v4(), None);
        drop(ticket);
        // A fill is in flight from before this tombstone: it must stay.
        let running = cache.ticket();
        cache.invalidate(&[Invalidation::Session(gone)]);
        cache.prune(now);
        assert_eq!(
            cache.sizes().1,
            2,
            "the live session and the needed tombstone"
        );
        cache.fill_session(
            &running,
            gone,
            Some(session(now + Duration::hours(1), false)),
        );
        assert_eq!(cache.session(gone), None);
        drop(running);
        cache.prune(now);
        assert_eq!(cache.sizes().1, 1);
        assert!(cache.session(live).is_some());
    }
}
