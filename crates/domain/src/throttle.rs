//! Brakes on password guessing: per-client-IP rate limits (governor's GCRA) on the anonymous
//! credential endpoints, and a per-account back-off after repeated wrong passwords.
//!
//! Both live here, in the service layer, so every surface that logs people in (REST, the login
//! form, server functions) is covered by the same rule. State is in memory, per replica.

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
        let key = ip.unwrap_or("unknown").to_owned();
        limiter.check_key(&key).map_err(|not_until| {
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

/// Consecutive wrong passwords an account may take before it is slowed down.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(15);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// Failure counts older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Per-account back-off: after [`FREE_FAILURES`] consecutive wrong passwords the account refuses
/// attempts for 15 s, doubling with each further failure up to 15 min; a success resets it.
/// Keyed by the normalised email, known or not, so it reveals nothing about which exist.
#[derive(Default)]
pub struct AccountBackoff {
    accounts: Mutex<HashMap<String, Failures>>,
}

impl AccountBackoff {
    pub fn check(&self, email: &str, now: Instant) -> Result<(), Error> {
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        match accounts.get(email).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(Error::rate_limited(until - now)),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, email: &str, now: Instant) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = accounts.entry(email.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        entry.count += 1;
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(10);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
            entry.locked_until = Some(now + lock);
        }
    }

    pub fn succeeded(&self, email: &str) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.remove(email);
    }

    pub fn prune(&self, now: Instant) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.retain(|_, f| {
            now.duration_since(f.last) < FORGET_AFTER || f.locked_until.is_some_and(|u| u > now)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(result: Result<(), Error>) -> Option<u64> {
        match result {
            Err(Error::RateLimited { retry_after, .. }) => Some(retry_after),
            Ok(()) => None,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_account_locks_after_five_failures_for_a_growing_window_and_success_resets() {
        let backoff = AccountBackoff::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            backoff.failed("a@b.c", now);
        }
        assert_eq!(retry_after(backoff.check("a@b.c", now)), None);
        backoff.failed("a@b.c", now);
        assert_eq!(retry_after(backoff.check("a@b.c", now)), Some(15));
        assert_eq!(retry_after(backoff.check("other@b.c", now)), None);
        // The window passes; the next failure locks for twice as long.
        let later = now + Duration::from_secs(16);
        assert_eq!(retry_after(backoff.check("a@b.c", later)), None);
        backoff.failed("a@b.c", later);
        assert_eq!(retry_after(backoff.check("a@b.c", later)), Some(30));
        backoff.succeeded("a@b.c");
        assert_eq!(retry_after(backoff.check("a@b.c", later)), None);
    }

    #[test]
    fn the_lock_never_exceeds_fifteen_minutes() {
        let backoff = AccountBackoff::default();
        let now = Instant::now();
        for _ in 0..100 {
            backoff.failed("a@b.c", now);
        }
        assert_eq!(retry_after(backoff.check("a@b.c", now)), Some(900));
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
        for _ in 0..50 {
            assert!(limits.check(Bucket::Reset, Some("10.0.0.1")).is_ok());
        }
    }
}
