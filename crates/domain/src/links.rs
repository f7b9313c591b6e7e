//! One-time links (password reset, invite/setup): secrets, their stored hashes, the URLs, and
//! the mail that carries them.

use crate::store::LinkKind;
use async_trait::async_trait;
use chrono::Duration;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Sends one plain-text mail. The server implements it with SMTP; tests with a recorder.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String>;
}

impl LinkKind {
    pub fn lifetime(self) -> Duration {
        match self {
            LinkKind::Reset => Duration::hours(24),
            LinkKind::Setup => Duration::days(7),
        }
    }

    /// The SPA page that consumes the link.
    pub fn page(self) -> &'static str {
        match self {
            LinkKind::Reset => "/reset-password",
            LinkKind::Setup => "/setup",
        }
    }
}

/// A fresh secret: 32 bytes from the OS CSPRNG, hex-encoded (URL-safe as is).
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// What is stored instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `presented` is the secret behind `stored_hash`, in constant time.
pub fn secret_matches(presented: &str, stored_hash: &str) -> bool {
    hash_secret(presented)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

/// `{base}/reset-password?email=…&token=…` (or `/setup?…`).
pub fn link_url(base: &str, kind: LinkKind, email: &str, secret: &str) -> String {
    format!(
        "{}{}?email={}&token={}",
        base.trim_end_matches('/'),
        kind.page(),
        encode_query_value(email),
        secret
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Subject and body of the mail carrying a link.
pub fn link_mail(kind: LinkKind, url: &str) -> (&'static str, String) {
    match kind {
        LinkKind::Reset => (
            "Reset your da password",
            format!(
                "Someone (hopefully you) asked to reset your da password.\n\n\
                 Open this link within 24 hours to choose a new one:\n{url}\n\n\
                 If you did not ask for this, ignore this mail; your password stays as it is.\n"
            ),
        ),
        LinkKind::Setup => (
            "You have been invited to da",
            format!(
                "An administrator created a da account for you.\n\n\
                 Open this link within 7 days to choose your password:\n{url}\n"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_their_hash_matches() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, new_secret().unwrap());
        let stored = hash_secret(&secret);
        assert_ne!(stored, secret);
        assert!(secret_matches(&secret, &stored));
        assert!(!secret_matches(&stored, &stored));
        assert!(!secret_matches("", &stored));
    }

    #[test]
    fn link_urls_encode_the_email() {
        assert_eq!(
            link_url("https://da.example/", LinkKind::Reset, "a+b@x.io", "ff"),
            "https://da.example/reset-password?email=a%2Bb%40x.io&token=ff"
        );
        assert!(link_url("http://h", LinkKind::Setup, "a@b.c", "1").starts_with("http://h/setup?"));
    }
}
