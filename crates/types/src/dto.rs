//! Request and response bodies of the REST API (`shared/API.md`), field names exactly as sent.

use crate::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Timestamps go over the wire as RFC 3339 UTC with a `Z` suffix and whole seconds.
pub mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|at| at.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|raw| {
                    DateTime::parse_from_rfc3339(&raw)
                        .map(|at| at.with_timezone(&Utc))
                        .map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCount {
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthDetailed {
    pub status: String,
    pub version: String,
    pub schema_version: i64,
    /// `"duckdb"` or `"postgres"`.
    pub storage: String,
    pub users: UserCount,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// `"cli"` opens a CLI session (short access token and a refresh token, `API.md` §13).
    #[serde(default)]
    pub client: crate::LoginClient,
}

crate::debug_redacting!(LoginRequest { email, client } secret { password });

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapRequest {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub password: String,
}

crate::debug_redacting!(BootstrapRequest { email, name } secret { password });

/// What a successful login, bootstrap or password set-up returns.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    /// When the access token expires.
    #[serde(with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    /// CLI sessions only: spend it at `POST /auth/refresh` for the next access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

crate::debug_redacting!(TokenResponse { token_type, user_id, email, role, expires_at } secret { access_token, refresh_token });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Session,
    Pat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    pub kind: CredentialKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Uuid>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<DateTime<Utc>>,
}

/// `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeResponse {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// The user's own role.
    pub role: Role,
    /// The role this request acts with: the highest of the own role and the groups' roles,
    /// narrowed by a token's role.
    pub effective_role: Role,
    pub groups: Vec<crate::GroupRef>,
    /// Created or last signed in through single sign-on.
    #[serde(default)]
    pub sso: bool,
    pub active: bool,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    pub credential: CredentialInfo,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_rfc3339_utc_with_z() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 17, 4, 5).unwrap();
        let info = CredentialInfo {
            kind: CredentialKind::Session,
            token_id: None,
            expires_at: Some(at),
        };
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            serde_json::json!({"kind": "session", "expires_at": "2026-11-22T17:04:05Z"})
        );
        let back: CredentialInfo =
            serde_json::from_value(serde_json::to_value(&info).unwrap()).unwrap();
        assert_eq!(back, info);
    }
}
