//! One-time links (password reset, invite/setup): secrets, their stored hashes, the URLs, and
//! the mail that carries them.
//!
//! A link that is mailed is built from `DA_PUBLIC_URL` only, never from the request that caused
//! it (an anonymous "forgot password" with a forged `Host` must not mail the victim a link to
//! the attacker). A link shown to an admin may fall back to the request's origin.

use crate::audit;
use crate::error::Error;
use crate::services::{ClientInfo, Services};
use crate::store::{AuditRecord, LinkKind, OneTimeToken, UserRecord};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a mailer may take before the link counts as not sent.
pub(crate) const MAIL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl LinkKind {
    pub fn lifetime(self) -> Duration {
        match self {
            LinkKind::Reset => Duration::hours(da_types::audit::links::RESET_HOURS),
            LinkKind::Setup => Duration::days(da_types::audit::links::INVITE_DAYS),
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

impl Services {
    /// Makes and stores a new link of `kind` for `user`, replacing a pending one (audited as
    /// `user.reset_password` or `user.invite`, described by `describe`); returns its secret, or
    /// `None` when `unless_since` is given and such a link was made at or after it (the
    /// per-account cooldown).
    pub(crate) async fn put_new_link(
        &self,
        user: &UserRecord,
        kind: LinkKind,
        unless_since: Option<DateTime<Utc>>,
        describe: impl FnOnce(AuditRecord) -> AuditRecord,
    ) -> Result<Option<String>, Error> {
        let secret = new_secret().map_err(Error::internal)?;
        let now = Utc::now();
        let link = OneTimeToken {
            user_id: user.id,
            kind,
            token_hash: hash_secret(&secret),
            created_at: now,
            expires_at: now + kind.lifetime(),
        };
        let action = match kind {
            LinkKind::Reset => audit::USER_RESET_PASSWORD,
            LinkKind::Setup => audit::USER_INVITE,
        };
        let row = describe(audit::record(action, format!("user:{}", user.id)));
        let stored = self.inner.store.put_link(&link, unless_since, &row).await?;
        Ok(stored.then_some(secret))
    }

    /// The link's URL for an admin to hand over: `DA_PUBLIC_URL`, else the request's origin.
    pub(crate) fn link_url(
        &self,
        client: &ClientInfo,
        kind: LinkKind,
        email: &str,
        secret: &str,
    ) -> String {
        let base = self
            .public_base_url(client)
            .unwrap_or("http://localhost:8000");
        link_url(base, kind, email, secret)
    }

    /// Mails a link when SMTP is configured; whether it went out. The URL in the mail is built
    /// here, from `DA_PUBLIC_URL` alone.
    pub(crate) async fn mail_link(&self, to: &str, kind: LinkKind, secret: &str) -> bool {
        let Some(mailer) = &self.inner.mailer else {
            return false;
        };
        let Some(base) = self.inner.config.public_url.as_deref() else {
            // The server refuses to start like this; never fall back to a request's Host.
            tracing::error!("not mailing a link: DA_PUBLIC_URL is not set");
            return false;
        };
        let (subject, body) = link_mail(kind, &link_url(base, kind, to, secret));
        match tokio::time::timeout(MAIL_TIMEOUT, mailer.send(to, subject, &body)).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, kind = kind.as_str(), "could not mail a link");
                false
            }
            Err(_) => {
                tracing::warn!(kind = kind.as_str(), "mail server did not answer in 15 s");
                false
            }
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
                 Open this link within {} hours to choose a new one:\n{url}\n\n\
                 If you did not ask for this, ignore this mail; your password stays as it is.\n",
                da_types::audit::links::RESET_HOURS
            ),
        ),
        LinkKind::Setup => (
            "You have been invited to da",
            format!(
                "An administrator created a da account for you.\n\n\
                 Open this link within {} days to choose your password:\n{url}\n",
                da_types::audit::links::INVITE_DAYS
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
