//! Wire types of personal access tokens (`API.md` §6).

use crate::Role;
use crate::dto::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

/// `TokenItem` of `API.md` §6. Never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenItem {
    pub id: Uuid,
    pub name: String,
    /// The first 12 characters of the token (`da_pat_` + 5).
    pub prefix: String,
    /// The token's own role, when it was narrowed at creation.
    pub role: Option<Role>,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339::option")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(with = "rfc3339::option")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    #[serde(with = "rfc3339::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    pub status: TokenStatus,
}

/// `POST /auth/tokens` answers the item plus the secret, exactly once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub item: TokenItem,
    pub token: String,
}

crate::debug_redacting!(CreatedToken { item } secret { token });

/// An entry of the admin inventory `GET /auth/admin/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokenItem {
    #[serde(flatten)]
    pub item: TokenItem,
    pub user_id: Uuid,
    pub user_email: Option<String>,
}

/// Absent stays `None`; an explicit `null` becomes `Some(None)`.
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /auth/tokens`. Lifetimes are raw JSON numbers so that any value, however large or
/// negative, gets a sentence rather than a parse error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Absent: 90 days. `null`: no expiry (unless the server caps lifetimes).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in_days: Option<Option<serde_json::Number>>,
    /// Wins over `expires_in_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<serde_json::Number>,
    /// Narrows the token below the owner's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The query of `GET /auth/admin/tokens`, as sent (checked by the service).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Case-insensitive substring of the owner's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokenPage {
    pub tokens: Vec<AdminTokenItem>,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_null_expiry_differ() {
        let absent: CreateTokenRequest = serde_json::from_str(r#"{"name":"ci"}"#).unwrap();
        assert_eq!(absent.expires_in_days, None);
        let null: CreateTokenRequest =
            serde_json::from_str(r#"{"name":"ci","expires_in_days":null}"#).unwrap();
        assert_eq!(null.expires_in_days, Some(None));
        let huge: CreateTokenRequest =
            serde_json::from_str(r#"{"name":"ci","expires_in_days":10000000000}"#).unwrap();
        assert_eq!(
            huge.expires_in_days.unwrap().unwrap().as_i64(),
            Some(10_000_000_000)
        );
        assert!(
            serde_json::from_str::<CreateTokenRequest>(r#"{"name":"ci","expires_in_days":"x"}"#)
                .is_err()
        );
    }
}

/// `POST /api/tokens/leaked` (`API.md` §14): strings a scanner found, and where.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakReport {
    pub tokens: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
}

crate::debug_redacting!(LeakReport { source } secret { tokens });

/// What a leak report did: strings looked at, tokens revoked by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakOutcome {
    pub checked: u64,
    pub revoked: u64,
}
