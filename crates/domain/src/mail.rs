//! The outgoing-mail port: the server implements it with SMTP, tests with a real SMTP sink.

use async_trait::async_trait;

/// Sends one plain-text mail.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String>;
}
