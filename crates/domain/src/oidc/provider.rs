//! What the identity provider publishes: its discovery document and its signing keys, fetched
//! through the [`OidcHttp`] port and cached.

use super::{HttpReply, OidcHttp};
use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a fetched document is used before it is fetched again.
const FRESH_FOR: Duration = Duration::from_secs(3600);
/// Larger answers are refused: nothing a provider publishes comes near it.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// The parts of `/.well-known/openid-configuration` da uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

impl Metadata {
    /// Whether the token endpoint takes the client secret in the form rather than HTTP Basic
    /// (the default of RFC 8414 is Basic).
    pub fn secret_in_form(&self) -> bool {
        self.token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|methods| {
                !methods.iter().any(|m| m == "client_secret_basic")
                    && methods.iter().any(|m| m == "client_secret_post")
            })
    }
}

struct Fetched<T> {
    value: Arc<T>,
    at: Instant,
}

pub(crate) struct ProviderCache {
    issuer: String,
    http: Arc<dyn OidcHttp>,
    metadata: Mutex<Option<Fetched<Metadata>>>,
    keys: Mutex<Option<Fetched<Vec<Jwk>>>>,
}

/// The issuer without a trailing slash, as discovery appends to it.
fn trimmed(issuer: &str) -> &str {
    issuer.trim_end_matches('/')
}

/// Whether `url` may be fetched: `https`, or plain `http` to this machine when the issuer is
/// itself on this machine (a development or test provider).
pub(crate) fn allowed_url(url: &str, issuer: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => true,
        "http" => is_loopback(&parsed) && url::Url::parse(issuer).is_ok_and(|i| is_loopback(&i)),
        _ => false,
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The JSON of a 200 answer, or why there is none.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    what: &str,
    reply: &HttpReply,
) -> Result<T, String> {
    if reply.status != 200 {
        let excerpt: String = String::from_utf8_lossy(&reply.body)
            .chars()
            .take(200)
            .collect();
        return Err(format!("{what}: HTTP {} {excerpt}", reply.status));
    }
    if reply.body.len() > MAX_BODY_BYTES {
        return Err(format!("{what}: the answer is larger than 1 MiB"));
    }
    serde_json::from_slice(&reply.body).map_err(|e| format!("{what}: not the expected JSON: {e}"))
}

impl ProviderCache {
    pub(crate) fn new(issuer: String, http: Arc<dyn OidcHttp>) -> ProviderCache {
        ProviderCache {
            issuer,
            http,
            metadata: Mutex::new(None),
            keys: Mutex::new(None),
        }
    }

    pub(crate) fn http(&self) -> &dyn OidcHttp {
        self.http.as_ref()
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
    ) -> Result<T, String> {
        if !allowed_url(url, &self.issuer) {
            return Err(format!("{what}: refusing {url}: not https"));
        }
        let reply = self
            .http
            .get(url, None)
            .await
            .map_err(|e| format!("{what}: {url}: {e}"))?;
        json_body(what, &reply)
    }

    /// The discovery document: cached, refetched when stale (the stale one is kept if the
    /// refetch fails, so a provider's hiccup does not stop sign-ins).
    pub(crate) async fn metadata(&self) -> Result<Arc<Metadata>, String> {
        let mut cached = self.metadata.lock().await;
        if let Some(fetched) = cached.as_ref()
            && fetched.at.elapsed() < FRESH_FOR
        {
            return Ok(fetched.value.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", trimmed(&self.issuer));
        match self.discover(&url).await {
            Ok(metadata) => {
                let value = Arc::new(metadata);
                *cached = Some(Fetched {
                    value: value.clone(),
                    at: Instant::now(),
                });
                Ok(value)
            }
            Err(err) => match cached.as_ref() {
                Some(stale) => {
                    tracing::warn!(error = %err, "single sign-on: discovery refetch failed; using the cached document");
                    Ok(stale.value.clone())
                }
                None => Err(err),
            },
        }
    }

    async fn discover(&self, url: &str) -> Result<Metadata, String> {
        let metadata: Metadata = self.get_json("discovery", url).await?;
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
        if trimmed(&metadata.issuer) != trimmed(&self.issuer) {
            return Err(format!(
                "discovery: the document names the issuer {:?}, not DA_OIDC_ISSUER {:?}",
                metadata.issuer, self.issuer
            ));
        }
        for (name, endpoint) in [
            (
                "authorization_endpoint",
                Some(&metadata.authorization_endpoint),
            ),
            ("token_endpoint", Some(&metadata.token_endpoint)),
            ("jwks_uri", Some(&metadata.jwks_uri)),
            ("userinfo_endpoint", metadata.userinfo_endpoint.as_ref()),
        ] {
            if let Some(endpoint) = endpoint
                && !allowed_url(endpoint, &self.issuer)
            {
                return Err(format!(
                    "discovery: {name} {endpoint:?} is not an https URL"
                ));
            }
        }
        Ok(metadata)
    }

    /// The provider's signing keys. `refresh` refetches them: a token signed with an unknown
    /// `kid` means the provider rotated its keys. (Only ID tokens from the token endpoint are
    /// checked, each for a code just issued, so refetches cannot be made to flood.)
    pub(crate) async fn keys(&self, refresh: bool) -> Result<Arc<Vec<Jwk>>, String> {
        let mut cached = self.keys.lock().await;
        if let Some(fetched) = cached.as_ref()
            && !refresh
            && fetched.at.elapsed() < FRESH_FOR
        {
            return Ok(fetched.value.clone());
        }
        let metadata = self.metadata().await?;
        let set: serde_json::Value = self.get_json("jwks", &metadata.jwks_uri).await?;
        let keys = signing_keys(&set);
        if keys.is_empty() {
            return Err("jwks: no usable signing key".into());
        }
        let value = Arc::new(keys);
        *cached = Some(Fetched {
            value: value.clone(),
            at: Instant::now(),
        });
        Ok(value)
    }
}

/// The keys of a JWKS that may verify signatures; others (encryption keys, kinds this build
/// does not know) are skipped instead of failing the whole set.
fn signing_keys(set: &serde_json::Value) -> Vec<Jwk> {
    let Some(keys) = set.get("keys").and_then(|k| k.as_array()) else {
        return Vec::new();
    };
    keys.iter()
        .filter(|key| {
            key.get("use")
                .and_then(|u| u.as_str())
                .is_none_or(|u| u == "sig")
        })
        .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
        .filter(|jwk| jsonwebtoken::DecodingKey::from_jwk(jwk).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_a_local_development_provider_is_fetched() {
        let remote = "https://idp.example.com";
        let local = "http://127.0.0.1:8080";
        assert!(allowed_url("https://idp.example.com/jwks", remote));
        assert!(!allowed_url("http://idp.example.com/jwks", remote));
        assert!(!allowed_url("http://127.0.0.1:8080/jwks", remote));
        assert!(allowed_url("http://127.0.0.1:8080/jwks", local));
        assert!(allowed_url(
            "http://localhost:9/jwks",
            "http://localhost:8080"
        ));
        assert!(!allowed_url("http://10.0.0.1/jwks", local));
        assert!(!allowed_url("file:///etc/passwd", local));
        assert!(!allowed_url("not a url", remote));
    }

    #[test]
    fn encryption_and_unknown_keys_are_skipped() {
        let set = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "use": "enc", "kid": "e",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "s",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "weird", "kid": "w"},
        ]});
        let keys = signing_keys(&set);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].common.key_id.as_deref(), Some("s"));
        assert!(signing_keys(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn basic_authentication_unless_only_the_form_is_offered() {
        let mut metadata = Metadata {
            issuer: String::new(),
            authorization_endpoint: String::new(),
            token_endpoint: String::new(),
            jwks_uri: String::new(),
            userinfo_endpoint: None,
            token_endpoint_auth_methods_supported: None,
        };
        assert!(!metadata.secret_in_form());
        metadata.token_endpoint_auth_methods_supported = Some(vec![
            "client_secret_post".into(),
            "client_secret_basic".into(),
        ]);
        assert!(!metadata.secret_in_form());
        metadata.token_endpoint_auth_methods_supported = Some(vec!["client_secret_post".into()]);
        assert!(metadata.secret_in_form());
    }
}
