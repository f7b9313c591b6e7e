//! Session JWTs (HS256): minting at login, verifying on every request.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const SESSION_TYP: &str = "session";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user id.
    pub sub: Uuid,
    pub email: String,
    /// Always `"session"`; anything else is refused.
    pub typ: String,
    /// The server-side session this token belongs to.
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and verifies session tokens with one HS256 key.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl SessionKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: the session row expires at the same instant.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn mint(
        &self,
        user_id: Uuid,
        email: &str,
        session_id: Uuid,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = SessionClaims {
            sub: user_id,
            email: email.to_owned(),
            typ: SESSION_TYP.to_owned(),
            sid: session_id,
            jti: Uuid::new_v4(),
            iat: issued_at.timestamp(),
            exp: expires_at.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a token signed with this key, unexpired and of type `session`.
    pub fn verify(&self, token: &str) -> Option<SessionClaims> {
        let data =
            jsonwebtoken::decode::<SessionClaims>(token, &self.decoding, &self.validation).ok()?;
        (data.claims.typ == SESSION_TYP).then_some(data.claims)
    }
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn keys() -> SessionKeys {
        SessionKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn minted_tokens_verify() {
        let now = Utc::now();
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let jwt = keys()
            .mint(user, "a@b.c", sid, now, now + Duration::hours(1))
            .unwrap();
        let claims = keys().verify(&jwt).unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.typ.as_str()),
            (user, sid, "session")
        );
    }

    #[test]
    fn expired_foreign_and_garbage_tokens_fail() {
        let now = Utc::now();
        let expired = keys()
            .mint(
                Uuid::new_v4(),
                "a@b.c",
                Uuid::new_v4(),
                now - Duration::hours(2),
                now - Duration::seconds(1),
            )
            .unwrap();
        assert!(keys().verify(&expired).is_none());

        let foreign = SessionKeys::new(b"another-key-another-key-another-key")
            .mint(
                Uuid::new_v4(),
                "a@b.c",
                Uuid::new_v4(),
                now,
                now + Duration::hours(1),
            )
            .unwrap();
        assert!(keys().verify(&foreign).is_none());

        for garbage in ["", "abc", "a.b.c", "da_pat_xyz"] {
            assert!(keys().verify(garbage).is_none());
        }
    }

    #[test]
    fn other_token_types_are_refused() {
        let now = Utc::now();
        let claims = SessionClaims {
            sub: Uuid::new_v4(),
            email: "a@b.c".into(),
            typ: "reset".into(),
            sid: Uuid::new_v4(),
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            exp: (now + Duration::hours(1)).timestamp(),
        };
        let jwt = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(keys().verify(&jwt).is_none());
    }
}
