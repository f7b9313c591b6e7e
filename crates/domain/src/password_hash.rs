//! Argon2id password hashing at the OWASP minimum (m = 19 MiB, t = 2, p = 1).
//!
//! Hashing is CPU- and memory-heavy, so it runs on the blocking pool, never on the async
//! workers, and a semaphore caps how many hashes run at once: a login storm queues here instead
//! of exhausting memory or starving the requests that only check a token.

use crate::error::Error;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
}

impl PasswordHasher {
    /// `concurrency` hashes may run at once (one per core is the sensible default).
    pub fn new(concurrency: usize) -> Self {
        let params =
            Params::new(19 * 1024, 2, 1, None).expect("OWASP Argon2id parameters are valid");
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            params,
        }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Returns the PHC string of a fresh salted hash.
    pub async fn hash(&self, password: &str) -> Result<String, Error> {
        let password = password.to_owned();
        let params = self.params.clone();
        self.run(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
        })
        .await
    }

    /// Checks `password` against a stored PHC string. With `None` (unknown user, or a user
    /// without a password) it still spends the same work on a dummy hash, so response time does
    /// not reveal which emails exist; the answer is then always `false`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Error> {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        let params = self.params.clone();
        self.run(move || {
            let (phc, real) = match &stored {
                Some(phc) => (phc.as_str(), true),
                None => (dummy_hash(&params), false),
            };
            let parsed = PasswordHash::new(phc)
                .map_err(|e| Error::Internal(format!("stored password hash is unreadable: {e}")))?;
            let matches = Self::argon2(params)
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(real && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password hasher closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(format!("password task failed: {e}")))?
    }
}

/// A hash of a random throwaway password with the configured parameters, made once.
fn dummy_hash(params: &Params) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        PasswordHasher::argon2(params.clone())
            .hash_password(b"not-a-real-password-only-for-timing")
            .expect("hashing a constant succeeds")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_owasp_parameters() {
        let hasher = PasswordHasher::new(2);
        let phc = hasher.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse", Some(&phc)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&phc)).await.unwrap());
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        let hasher = PasswordHasher::new(1);
        assert!(!hasher.verify("anything", None).await.unwrap());
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ() {
        let hasher = PasswordHasher::new(1);
        assert_ne!(
            hasher.hash("same").await.unwrap(),
            hasher.hash("same").await.unwrap()
        );
    }
}
