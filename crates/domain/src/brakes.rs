//! Brakes on password guessing (`API.md` §3 "Brakes on guessing"):
//!
//! - per client rate limits (governor's GCRA) on the anonymous credential endpoints;
//! - a back-off per account *and* client after repeated wrong passwords, so a stranger's
//!   guesses slow down the stranger, not the owner signing in from elsewhere;
//! - a slower budget of wrong passwords per account across all clients, against guessing
//!   spread over many addresses; clients that signed in to the account before are spared, so
//!   the owner is not locked out by it either.
//!
//! A client is its IP address, IPv6 by its /64 (one subscriber's network). Every surface that
//! checks a password (REST, the login form, server functions, `POST /api/me/password`) goes
//! through the same [`Brakes`]. State is in memory; with several replicas each tells the others
//! how its checks ended ([`Brakes::heard`]), so a guesser moving between replicas meets the same
//! back-off. (Checks still running on another replica are not counted here.)

use crate::error::Error;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per minute per client IP; 0 switches a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Logins, and confirming reset or setup links.
    pub login_per_minute: u32,
    /// "Forgot password" requests.
    pub reset_per_minute: u32,
    pub bootstrap_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            login_per_minute: 10,
            reset_per_minute: 5,
            bootstrap_per_minute: 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Login,
    Reset,
    Bootstrap,
}

pub struct IpLimits {
    login: Option<DefaultKeyedRateLimiter<String>>,
    reset: Option<DefaultKeyedRateLimiter<String>>,
    bootstrap: Option<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(n: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl IpLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        IpLimits {
            login: per_minute(config.login_per_minute),
            reset: per_minute(config.reset_per_minute),
            bootstrap: per_minute(config.bootstrap_per_minute),
        }
    }

    /// Takes one request from `ip`'s allowance, or says how long to wait.
    pub fn check(&self, bucket: Bucket, ip: Option<&str>) -> Result<(), Error> {
        let limiter = match bucket {
            Bucket::Login => &self.login,
            Bucket::Reset => &self.reset,
            Bucket::Bootstrap => &self.bootstrap,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        limiter.check_key(&client_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::rate_limited(wait)
        })
    }

    /// Forgets clients whose allowance is full again, so the maps stay small.
    pub fn prune(&self) {
        for limiter in [&self.login, &self.reset, &self.bootstrap]
            .into_iter()
            .flatten()
        {
            limiter.retain_recent();
        }
    }
}

/// The unit the brakes count per: an IPv4 address, an IPv6 /64, or `unknown`.
pub fn client_key(ip: Option<&str>) -> String {
    match ip.map(|ip| ip.parse::<std::net::IpAddr>()) {
        Some(Ok(std::net::IpAddr::V6(v6))) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Some(Ok(v4)) => v4.to_string(),
        Some(Err(_)) => ip.unwrap_or("unknown").to_owned(),
        None => "unknown".to_owned(),
    }
}

/// Consecutive wrong passwords one client may send for one account before it is slowed down.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(15);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// Failure counts older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Wrong passwords an account takes from all clients together before unknown clients must
/// wait; the budget refills one every [`ACCOUNT_REFILL`] (20 an hour).
pub const ACCOUNT_BUDGET: f64 = 20.0;
const ACCOUNT_REFILL: Duration = Duration::from_secs(180);
/// A client that signed in to an account is known to it for this long.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// Checks of this client's password for this account still running (Argon2 takes a while:
    /// parallel guesses must not all pass the brake before the first one failed).
    pending: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// What is left of an account's budget of wrong passwords.
#[derive(Debug, Clone, Copy)]
struct Budget {
    left: f64,
    at: Instant,
}

impl Budget {
    fn now(self, now: Instant) -> f64 {
        let refilled = now.duration_since(self.at).as_secs_f64() / ACCOUNT_REFILL.as_secs_f64();
        (self.left + refilled).min(ACCOUNT_BUDGET)
    }

    fn add(&mut self, amount: f64, now: Instant) {
        *self = Budget {
            left: self.now(now) + amount,
            at: now,
        };
    }
}

#[derive(Default)]
struct State {
    /// (account, client) → consecutive failures.
    per_client: HashMap<(String, String), Failures>,
    per_account: HashMap<String, Budget>,
    /// (account, client) → last successful sign-in.
    known: HashMap<(String, String), Instant>,
}

/// One more wrong password from this client: past the free ones, a lock that doubles.
fn count_wrong(entry: &mut Failures, now: Instant) {
    entry.count += 1;
    entry.last = now;
    if entry.count >= FREE_FAILURES {
        let doublings = (entry.count - FREE_FAILURES).min(10);
        let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
        entry.locked_until = Some(now + lock);
    }
}

/// The back-offs for password checks. Keyed by the normalised email, known or not, so it
/// reveals nothing about which accounts exist.
#[derive(Default)]
pub struct Brakes {
    state: Mutex<State>,
}

/// A password check let through the brakes. It counts as a wrong password from the moment it
/// starts (so parallel guesses cannot slip past together) until [`PasswordAttempt::finish`]
/// says otherwise; dropped unfinished (the check itself failed), it counts as nothing.
pub struct PasswordAttempt<'a> {
    brakes: &'a Brakes,
    key: (String, String),
    finished: bool,
}

impl PasswordAttempt<'_> {
    /// The check's result: a right password clears this client's count and makes it known to
    /// the account; a wrong one counts.
    pub fn finish(self, right: bool) {
        self.finish_at(right, Instant::now());
    }

    fn finish_at(mut self, right: bool, now: Instant) {
        self.finished = true;
        self.brakes.settle(&self.key, Some(right), now);
    }
}

impl Drop for PasswordAttempt<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.brakes.settle(&self.key, None, Instant::now());
        }
    }
}

impl Brakes {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets one password check for `account` from `ip` start, or refuses it (429, with the
    /// wait). Call it before spending Argon2 on the attempt.
    pub fn begin(
        &self,
        account: &str,
        ip: Option<&str>,
        now: Instant,
    ) -> Result<PasswordAttempt<'_>, Error> {
        let key = (account.to_owned(), client_key(ip));
        let mut state = self.state();
        let known = state
            .known
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < KNOWN_FOR);
        if let Some(failures) = state.per_client.get(&key) {
            if let Some(until) = failures.locked_until
                && until > now
            {
                return Err(Error::rate_limited(until - now));
            }
            // The ones still running would reach the limit if they are wrong: wait for them.
            // (A client that signed in to the account before may run many at once: a CI farm
            // behind one address signing in as its service account.)
            if !known && failures.pending > 0 && failures.count + failures.pending >= FREE_FAILURES
            {
                return Err(Error::rate_limited(Duration::from_secs(1)));
            }
        }
        if !known && let Some(budget) = state.per_account.get(account) {
            let left = budget.now(now);
            if left < 1.0 {
                return Err(Error::rate_limited(ACCOUNT_REFILL.mul_f64(1.0 - left)));
            }
        }
        state
            .per_client
            .entry(key.clone())
            .or_insert(Failures {
                count: 0,
                pending: 0,
                last: now,
                locked_until: None,
            })
            .pending += 1;
        state
            .per_account
            .entry(account.to_owned())
            .or_insert(Budget {
                left: ACCOUNT_BUDGET,
                at: now,
            })
            .add(-1.0, now);
        Ok(PasswordAttempt {
            brakes: self,
            key,
            finished: false,
        })
    }

    /// What another replica's check for `account` from `client` (a [`client_key`]) ended in.
    pub fn heard(&self, news: &crate::store::PasswordNews, now: Instant) {
        use crate::store::PasswordOutcome;
        let key = (news.account.clone(), news.client.clone());
        let mut state = self.state();
        match news.outcome {
            PasswordOutcome::Wrong => {
                state
                    .per_account
                    .entry(key.0.clone())
                    .or_insert(Budget {
                        left: ACCOUNT_BUDGET,
                        at: now,
                    })
                    .add(-1.0, now);
                let entry = state.per_client.entry(key).or_insert(Failures {
                    count: 0,
                    pending: 0,
                    last: now,
                    locked_until: None,
                });
                count_wrong(entry, now);
            }
            PasswordOutcome::Right => {
                state.per_client.remove(&key);
                state.known.insert(key, now);
            }
            PasswordOutcome::Proved => {
                if let Some(entry) = state.per_client.get_mut(&key) {
                    entry.count = 0;
                    entry.locked_until = None;
                }
                state.known.insert(key, now);
            }
        }
    }

    /// Ends an attempt: `Some(right)`, or `None` for one that never got an answer.
    fn settle(&self, key: &(String, String), right: Option<bool>, now: Instant) {
        let mut state = self.state();
        if right != Some(false)
            && let Some(budget) = state.per_account.get_mut(&key.0)
        {
            // Only wrong passwords spend the account's budget.
            budget.add(1.0, now);
        }
        let Some(entry) = state.per_client.get_mut(key) else {
            return;
        };
        entry.pending = entry.pending.saturating_sub(1);
        match right {
            Some(true) => {
                state.per_client.remove(key);
                state.known.insert(key.clone(), now);
            }
            Some(false) => count_wrong(entry, now),
            None => {}
        }
    }

    /// A sign-in that proved the account without a password check (a redeemed link): the
    /// client starts afresh and is known to the account.
    pub fn succeeded(&self, account: &str, ip: Option<&str>, now: Instant) {
        let key = (account.to_owned(), client_key(ip));
        let mut state = self.state();
        if let Some(entry) = state.per_client.get_mut(&key) {
            entry.count = 0;
            entry.locked_until = None;
        }
        state.known.insert(key, now);
    }

    pub fn prune(&self, now: Instant) {
        let mut state = self.state();
        state.per_client.retain(|_, f| {
            f.pending > 0
                || now.duration_since(f.last) < FORGET_AFTER
                || f.locked_until.is_some_and(|u| u > now)
        });
        state
            .per_account
            .retain(|_, budget| budget.now(now) < ACCOUNT_BUDGET);
        state
            .known
            .retain(|_, at| now.duration_since(*at) < KNOWN_FOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Option<&str> = Some("203.0.113.7");
    const THERE: Option<&str> = Some("198.51.100.2");

    fn retry_after<T>(result: Result<T, Error>) -> Option<u64> {
        match result {
            Err(Error::RateLimited { retry_after, .. }) => Some(retry_after),
            Ok(_) => None,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    /// One whole password check with this outcome.
    fn attempt(brakes: &Brakes, account: &str, ip: Option<&str>, now: Instant, right: bool) {
        brakes
            .begin(account, ip, now)
            .unwrap()
            .finish_at(right, now);
    }

    #[test]
    fn what_another_replica_heard_brakes_here_too() {
        use crate::store::{PasswordNews, PasswordOutcome};
        let (here, there) = (Brakes::default(), Brakes::default());
        let now = Instant::now();
        let news = |outcome| PasswordNews {
            account: "a@b.c".into(),
            client: client_key(HERE),
            outcome,
        };
        // Five wrong passwords on the other replica: this one locks the client out as well.
        for _ in 0..FREE_FAILURES {
            attempt(&there, "a@b.c", HERE, now, false);
            here.heard(&news(PasswordOutcome::Wrong), now);
        }
        assert_eq!(retry_after(there.begin("a@b.c", HERE, now)), Some(15));
        assert_eq!(retry_after(here.begin("a@b.c", HERE, now)), Some(15));
        assert_eq!(retry_after(here.begin("a@b.c", THERE, now)), None);
        // A redeemed link there frees the client here.
        here.heard(&news(PasswordOutcome::Proved), now);
        assert_eq!(retry_after(here.begin("a@b.c", HERE, now)), None);
        // The account's budget spent over there counts here.
        let here = Brakes::default();
        for n in 0..ACCOUNT_BUDGET as usize {
            here.heard(
                &PasswordNews {
                    account: "a@b.c".into(),
                    client: format!("198.51.100.{n}"),
                    outcome: PasswordOutcome::Wrong,
                },
                now,
            );
        }
        assert!(retry_after(here.begin("a@b.c", Some("192.0.2.99"), now)).is_some());
        // A right password there makes the client known here: the budget spares it.
        here.heard(
            &PasswordNews {
                account: "a@b.c".into(),
                client: client_key(Some("192.0.2.99")),
                outcome: PasswordOutcome::Right,
            },
            now,
        );
        assert_eq!(
            retry_after(here.begin("a@b.c", Some("192.0.2.99"), now)),
            None
        );
    }

    #[test]
    fn a_client_locks_after_five_failures_for_a_growing_window_and_success_resets() {
        let brakes = Brakes::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            attempt(&brakes, "a@b.c", HERE, now, false);
        }
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, now)), None);
        attempt(&brakes, "a@b.c", HERE, now, false);
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, now)), Some(15));
        assert_eq!(retry_after(brakes.begin("other@b.c", HERE, now)), None);
        assert_eq!(
            retry_after(brakes.begin("a@b.c", THERE, now)),
            None,
            "the owner elsewhere is not locked out"
        );
        // The window passes; the next failure locks for twice as long.
        let later = now + Duration::from_secs(16);
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, later)), None);
        attempt(&brakes, "a@b.c", HERE, later, false);
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, later)), Some(30));
        assert!(
            brakes
                .begin("a@b.c", HERE, later + Duration::from_secs(31))
                .is_ok()
        );
        attempt(
            &brakes,
            "a@b.c",
            HERE,
            later + Duration::from_secs(31),
            true,
        );
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, later)), None);
    }

    #[test]
    fn the_lock_never_exceeds_fifteen_minutes() {
        let brakes = Brakes::default();
        let mut at = Instant::now();
        for _ in 0..20 {
            // Each guess waits out the lock the one before earned.
            at += LONGEST_LOCK + Duration::from_secs(1);
            attempt(&brakes, "a@b.c", HERE, at, false);
        }
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, at)), Some(900));
    }

    #[test]
    fn the_account_budget_stops_spread_out_guessing_but_spares_known_clients() {
        let brakes = Brakes::default();
        let now = Instant::now();
        attempt(&brakes, "a@b.c", THERE, now, true);
        for n in 0..ACCOUNT_BUDGET as u32 {
            let ip = format!("192.0.2.{n}");
            assert_eq!(retry_after(brakes.begin("a@b.c", Some(&ip), now)), None);
            attempt(&brakes, "a@b.c", Some(&ip), now, false);
        }
        assert_eq!(
            retry_after(brakes.begin("a@b.c", Some("192.0.2.250"), now)),
            Some(180)
        );
        assert_eq!(retry_after(brakes.begin("a@b.c", THERE, now)), None);
        assert_eq!(
            retry_after(brakes.begin("b@b.c", Some("192.0.2.250"), now)),
            None
        );
        // It refills: one more guess three minutes later.
        let later = now + ACCOUNT_REFILL;
        assert_eq!(
            retry_after(brakes.begin("a@b.c", Some("192.0.2.250"), later)),
            None
        );
    }

    #[test]
    fn checks_still_running_count_as_failures() {
        let brakes = Brakes::default();
        let now = Instant::now();
        // Five guesses at once from one client: all five may run…
        let running: Vec<_> = (0..FREE_FAILURES)
            .map(|_| brakes.begin("a@b.c", HERE, now).unwrap())
            .collect();
        // …but not a sixth before they are answered.
        assert!(retry_after(brakes.begin("a@b.c", HERE, now)).is_some());
        for attempt in running {
            attempt.finish_at(false, now);
        }
        assert_eq!(retry_after(brakes.begin("a@b.c", HERE, now)), Some(15));
        // Spread over clients, the account budget is spent by the attempts as they start.
        let spread: Vec<_> = (0..ACCOUNT_BUDGET as u32 - FREE_FAILURES)
            .map(|n| {
                brakes
                    .begin("a@b.c", Some(&format!("192.0.2.{n}")), now)
                    .unwrap()
            })
            .collect();
        assert!(retry_after(brakes.begin("a@b.c", Some("192.0.2.250"), now)).is_some());
        // A known client is not held back by its own checks in flight.
        attempt(&brakes, "b@b.c", HERE, now, true);
        let many: Vec<_> = (0..10)
            .map(|_| brakes.begin("b@b.c", HERE, now).unwrap())
            .collect();
        drop(many);
        // Right answers give their share back; an attempt that never got an answer too.
        let mut spread = spread.into_iter();
        spread.next().unwrap().finish_at(true, now);
        drop(spread.next());
        assert!(brakes.begin("a@b.c", Some("192.0.2.251"), now).is_ok());
    }

    #[test]
    fn ipv6_clients_are_their_64_bit_prefix() {
        assert_eq!(client_key(Some("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_eq!(
            client_key(Some("2001:db8:1:2:ffff:1:2:3")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(client_key(Some("::ffff:10.0.0.1")), "10.0.0.1");
        assert_eq!(client_key(Some("10.0.0.1")), "10.0.0.1");
        assert_eq!(client_key(None), "unknown");
    }

    #[test]
    fn ip_limits_refuse_with_a_wait_and_zero_switches_off() {
        let limits = IpLimits::new(RateLimitConfig {
            login_per_minute: 2,
            reset_per_minute: 0,
            bootstrap_per_minute: 1,
        });
        assert!(limits.check(Bucket::Login, Some("10.0.0.1")).is_ok());
        assert!(limits.check(Bucket::Login, Some("10.0.0.1")).is_ok());
        let wait = retry_after(limits.check(Bucket::Login, Some("10.0.0.1"))).unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(limits.check(Bucket::Login, Some("10.0.0.2")).is_ok());
        assert!(limits.check(Bucket::Bootstrap, Some("2001:db8::1")).is_ok());
        assert!(
            limits
                .check(Bucket::Bootstrap, Some("2001:db8::2"))
                .is_err(),
            "the same /64"
        );
        for _ in 0..50 {
            assert!(limits.check(Bucket::Reset, Some("10.0.0.1")).is_ok());
        }
    }
}
