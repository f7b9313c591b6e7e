//! Checking an ID token (OpenID Connect Core §3.1.3.7): its signature by one of the provider's
//! published keys, with an asymmetric algorithm only; `iss`, `aud`, `exp`; `azp` when present
//! or when there are several audiences. The `nonce` is compared by the caller, which holds it.

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Seconds of clock difference tolerated between da and the provider.
const LEEWAY_SECONDS: u64 = 60;

/// Signature algorithms an ID token may use. `none` and the HMAC family are refused: an HMAC
/// "signature" would be keyed with the client secret, which more than the provider holds.
const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What the provider must have said.
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Signed with a `kid` the keys do not have (yet): worth one refetch of the keys.
    UnknownKey(String),
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(#[allow(dead_code)] String),
    Many(Vec<String>),
}

/// The claims of a valid ID token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdClaims {
    pub sub: String,
    pub nonce: Option<String>,
    /// Every claim, for the email, name and groups.
    pub all: Map<String, Value>,
}

fn invalid(why: impl Into<String>) -> Rejection {
    Rejection::Invalid(why.into())
}

/// The key that signed `header`: by `kid`, or the only fitting key when there is no `kid`.
fn key_for<'k>(header: &jsonwebtoken::Header, keys: &'k [Jwk]) -> Result<&'k Jwk, Rejection> {
    let fits = |jwk: &&Jwk| {
        jwk.common
            .key_algorithm
            .is_none_or(|alg| alg == KeyAlgorithm::from(header.alg))
    };
    match &header.kid {
        Some(kid) => keys
            .iter()
            .find(|jwk| jwk.common.key_id.as_deref() == Some(kid.as_str()))
            .ok_or_else(|| Rejection::UnknownKey(kid.clone())),
        None => {
            let mut candidates = keys.iter().filter(fits).filter(|jwk| {
                DecodingKey::from_jwk(jwk).is_ok_and(|k| k.family() == header.alg.family())
            });
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Ok(only),
                (None, _) => Err(Rejection::UnknownKey("(none)".into())),
                (Some(_), Some(_)) => Err(invalid("no kid, and several keys could have signed")),
            }
        }
    }
}

/// Verifies `token` and returns its claims.
pub(crate) fn verify(
    token: &str,
    keys: &[Jwk],
    expected: &Expected<'_>,
) -> Result<IdClaims, Rejection> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("not a JWT: {e}")))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(invalid(format!(
            "signed with {:?}, which is not an asymmetric algorithm",
            header.alg
        )));
    }
    let jwk = key_for(&header, keys)?;
    if let Some(alg) = jwk.common.key_algorithm
        && alg != KeyAlgorithm::from(header.alg)
    {
        return Err(invalid(format!(
            "the key {:?} is for {alg:?}, the token says {:?}",
            jwk.common.key_id, header.alg
        )));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(format!("unusable key: {e}")))?;
    if key.family() != header.alg.family() {
        return Err(invalid("the key's type does not fit the token's algorithm"));
    }
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let all = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| invalid(format!("rejected: {e}")))?
        .claims;

    let audiences = match all
        .get("aud")
        .cloned()
        .map(serde_json::from_value::<Audience>)
    {
        Some(Ok(Audience::One(_))) => 1,
        Some(Ok(Audience::Many(list))) => list.len(),
        _ => return Err(invalid("no readable aud")),
    };
    match all.get("azp") {
        Some(Value::String(azp)) if azp == expected.client_id => {}
        Some(_) => return Err(invalid("azp names another client")),
        None if audiences > 1 => return Err(invalid("several audiences and no azp")),
        None => {}
    }
    let sub = match all.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
        _ => return Err(invalid("no sub")),
    };
    let nonce = match all.get("nonce") {
        Some(Value::String(nonce)) => Some(nonce.clone()),
        _ => None,
    };
    Ok(IdClaims { sub, nonce, all })
}

/// `email_verified`, also as the strings some providers send.
pub(crate) fn email_verified(claims: &Map<String, Value>) -> Option<bool> {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A string claim, if present and not empty.
pub(crate) fn string_claim<'c>(claims: &'c Map<String, Value>, name: &str) -> Option<&'c str> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// The groups claim: a list of strings, or one string. `None` — memberships stay as they are —
/// when absent, or when it is something else (an object, a boolean): a claim we cannot read
/// must not read as "in no group" and strip everyone's memberships. Other values in a list are
/// left out.
pub(crate) fn groups_claim(claims: &Map<String, Value>, name: &str) -> Option<Vec<String>> {
    match claims.get(name)? {
        Value::Array(values) => Some(
            values
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
        ),
        Value::String(one) => Some(vec![one.clone()]),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    // Two P-256 keys (PKCS#8 DER) made for these tests only, with `openssl genpkey -algorithm
    // EC -pkeyopt ec_paramgen_curve:P-256`: the provider's, and a stranger's.
    pub(crate) const PROVIDER_KEY: &[u8] = include_bytes!("test_keys/provider_p256.der");
    pub(crate) const FOREIGN_KEY: &[u8] = include_bytes!("test_keys/foreign_p256.der");

    pub(crate) const ISSUER: &str = "https://idp.example.com";
    pub(crate) const CLIENT: &str = "da-client";

    pub(crate) fn public_jwk(der: &[u8], kid: &str) -> Jwk {
        let key = EncodingKey::from_ec_der(der);
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.into());
        jwk
    }

    pub(crate) fn sign(der: &[u8], kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(der)).unwrap()
    }

    pub(crate) fn claims() -> Value {
        let now = chrono::Utc::now().timestamp();
        serde_json::json!({
            "iss": ISSUER, "aud": CLIENT, "sub": "user-1", "exp": now + 300, "iat": now,
            "nonce": "n-1", "email": "ann@example.com", "email_verified": true,
        })
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: CLIENT,
        }
    }

    fn check(token: &str) -> Result<IdClaims, Rejection> {
        verify(token, &[public_jwk(PROVIDER_KEY, "k1")], &expected())
    }

    fn refused(token: &str) -> String {
        match check(token) {
            Err(Rejection::Invalid(why)) => why,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut value = claims();
        change(value.as_object_mut().unwrap());
        value
    }

    #[test]
    fn a_token_of_the_provider_is_accepted() {
        let verified = check(&sign(PROVIDER_KEY, Some("k1"), &claims())).unwrap();
        assert_eq!(verified.sub, "user-1");
        assert_eq!(verified.nonce.as_deref(), Some("n-1"));
        assert_eq!(
            string_claim(&verified.all, "email"),
            Some("ann@example.com")
        );
        // Without a kid, the only fitting key is used.
        assert!(check(&sign(PROVIDER_KEY, None, &claims())).is_ok());
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let forged = sign(FOREIGN_KEY, Some("k1"), &claims());
        assert!(
            refused(&forged).contains("InvalidSignature"),
            "{}",
            refused(&forged)
        );
        assert_eq!(
            check(&sign(FOREIGN_KEY, Some("k9"), &claims())),
            Err(Rejection::UnknownKey("k9".into())),
            "an unknown kid asks for a refetch of the keys"
        );
    }

    #[test]
    fn none_and_hmac_are_refused_even_with_a_matching_key() {
        let body = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            claims().to_string(),
        );
        let none = format!("eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.{body}.");
        assert!(check(&none).is_err());
        // HS256 keyed with the client's secret, as an attacker who knows it could make.
        let hmac = jsonwebtoken::encode(
            &Header {
                kid: Some("k1".into()),
                ..Header::new(Algorithm::HS256)
            },
            &claims(),
            &EncodingKey::from_secret(b"client-secret"),
        )
        .unwrap();
        assert!(refused(&hmac).contains("not an asymmetric algorithm"));
    }

    #[test]
    fn issuer_audience_expiry_and_azp_are_checked() {
        let cases = [
            with(|c| {
                c.insert("iss".into(), "https://evil.example.com".into());
            }),
            with(|c| {
                c.insert("aud".into(), "another-client".into());
            }),
            with(|c| {
                c.insert("exp".into(), (chrono::Utc::now().timestamp() - 3600).into());
            }),
            with(|c| {
                c.remove("exp");
            }),
            with(|c| {
                c.insert("azp".into(), "another-client".into());
            }),
            with(|c| {
                c.insert("aud".into(), serde_json::json!([CLIENT, "other"]));
            }),
            with(|c| {
                c.remove("sub");
            }),
        ];
        for claims in cases {
            assert!(
                check(&sign(PROVIDER_KEY, Some("k1"), &claims)).is_err(),
                "{claims}"
            );
        }
        let several_with_azp = with(|c| {
            c.insert("aud".into(), serde_json::json!([CLIENT, "other"]));
            c.insert("azp".into(), CLIENT.into());
        });
        assert!(check(&sign(PROVIDER_KEY, Some("k1"), &several_with_azp)).is_ok());
    }

    #[test]
    fn a_token_not_valid_yet_is_refused() {
        let later = with(|c| {
            c.insert("nbf".into(), (chrono::Utc::now().timestamp() + 600).into());
        });
        assert!(check(&sign(PROVIDER_KEY, Some("k1"), &later)).is_err());
        let now = with(|c| {
            c.insert("nbf".into(), chrono::Utc::now().timestamp().into());
        });
        assert!(check(&sign(PROVIDER_KEY, Some("k1"), &now)).is_ok());
    }

    #[test]
    fn claims_are_read_leniently() {
        let all = with(|c| {
            c.insert("email_verified".into(), "false".into());
            c.insert("groups".into(), serde_json::json!(["a", 7, {"x": 1}]));
            c.insert("one".into(), "solo".into());
        });
        let all = all.as_object().unwrap();
        assert_eq!(email_verified(all), Some(false));
        assert_eq!(
            groups_claim(all, "groups"),
            Some(vec!["a".into(), "7".into()])
        );
        assert_eq!(groups_claim(all, "one"), Some(vec!["solo".into()]));
        assert_eq!(groups_claim(all, "missing"), None);
        for unreadable in [
            serde_json::json!({"src1": "graph"}),
            true.into(),
            Value::Null,
        ] {
            let mut claims = all.clone();
            claims.insert("groups".into(), unreadable);
            assert_eq!(groups_claim(&claims, "groups"), None);
        }
        assert_eq!(string_claim(all, "email"), Some("ann@example.com"));
    }
}
