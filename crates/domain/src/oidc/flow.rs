//! One sign-in in flight: the `state`, `nonce` and PKCE verifier made when it starts, sealed
//! into a short-lived cookie for the browser that started it, and opened at the callback.
//!
//! The cookie is signed (HS256 with a key derived from the session secret, so it is no session
//! token) but not encrypted: it holds nothing the browser's own user may not see, and it only
//! works together with the provider's answer to that same browser.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const FLOW_TYP: &str = "oidc_flow";

/// A sign-in in flight, as the cookie carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flow {
    typ: String,
    pub state: String,
    pub nonce: String,
    /// The PKCE `code_verifier`.
    pub verifier: String,
    /// Where to go after signing in (already checked to be a local path).
    pub next: String,
    pub exp: i64,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("next", &self.next)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// 32 random bytes, base64url: 256 bits for each of state, nonce and verifier.
fn random_value() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 `code_challenge` of a verifier (RFC 7636 §4.2).
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Flow {
    pub(crate) fn start(next: String, expires_at: DateTime<Utc>) -> Flow {
        Flow {
            typ: FLOW_TYP.into(),
            state: random_value(),
            nonce: random_value(),
            verifier: random_value(),
            next,
            exp: expires_at.timestamp(),
        }
    }

    pub(crate) fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_else(Utc::now)
    }
}

/// Seals and opens flow cookies.
pub(crate) struct FlowKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl FlowKeys {
    pub(crate) fn new(session_secret: &[u8]) -> FlowKeys {
        // A key of its own: a flow cookie can never pass as a session token, nor the reverse.
        let key = Sha256::new()
            .chain_update(b"da oidc flow cookie v1\0")
            .chain_update(session_secret)
            .finalize();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        FlowKeys {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
        }
    }

    pub(crate) fn seal(&self, flow: &Flow) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), flow, &self.encoding)
    }

    /// The flow a cookie carries, if it is one of ours and has not expired.
    pub(crate) fn open(&self, cookie: &str) -> Option<Flow> {
        let flow = jsonwebtoken::decode::<Flow>(cookie, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (flow.typ == FLOW_TYP).then_some(flow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_sealed_flow_opens_only_with_its_key_and_before_it_expires() {
        let keys = FlowKeys::new(&[7; 32]);
        let flow = Flow::start("/tokens".into(), Utc::now() + Duration::minutes(10));
        let cookie = keys.seal(&flow).unwrap();
        assert_eq!(keys.open(&cookie), Some(flow.clone()));
        assert_eq!(FlowKeys::new(&[8; 32]).open(&cookie), None);

        let expired = Flow::start("/".into(), Utc::now() - Duration::seconds(1));
        assert_eq!(keys.open(&keys.seal(&expired).unwrap()), None);

        // A tampered payload breaks the signature.
        let mut parts: Vec<String> = cookie.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["next"] = "/elsewhere".into();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_eq!(keys.open(&parts.join(".")), None);
        assert_eq!(keys.open("garbage"), None);
    }

    #[test]
    fn a_session_token_is_no_flow_cookie() {
        let secret = [7; 32];
        let session = crate::jwt::SessionKeys::new(&secret)
            .mint(
                uuid::Uuid::new_v4(),
                "a@example.com",
                uuid::Uuid::new_v4(),
                Utc::now(),
                Utc::now() + Duration::hours(1),
            )
            .unwrap();
        assert_eq!(FlowKeys::new(&secret).open(&session), None);
    }

    #[test]
    fn values_are_random_and_the_challenge_is_rfc_7636s() {
        let a = Flow::start("/".into(), Utc::now());
        let b = Flow::start("/".into(), Utc::now());
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, a.state);
        assert_eq!(a.verifier.len(), 43);
        // RFC 7636 appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
