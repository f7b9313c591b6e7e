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
/// After a failed first fetch, how long callers get that failure instead of a fetch of their
/// own: sign-ins against a provider that is down fail at once instead of queueing behind
/// one timeout after another.
const RETRY_AFTER: Duration = Duration::from_secs(5);
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

/// One cached document: the last good copy, and the last failure when there is no copy.
struct Slot<T> {
    fetched: Option<Fetched<T>>,
    failed: Option<(Instant, String)>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            fetched: None,
            failed: None,
        }
    }
}

impl<T> Slot<T> {
    /// The outcome of a fetch: a good copy replaces the old one; a failure falls back to the
    /// old copy (a provider's hiccup does not stop sign-ins) or, without one, is remembered.
    fn settle(&mut self, what: &str, outcome: Result<T, String>) -> Result<Arc<T>, String> {
        match outcome {
            Ok(value) => {
                let value = Arc::new(value);
                self.fetched = Some(Fetched {
                    value: value.clone(),
                    at: Instant::now(),
                });
                self.failed = None;
                Ok(value)
            }
            Err(err) => match &self.fetched {
                Some(stale) => {
                    tracing::warn!(error = %err, "single sign-on: {what} refetch failed; using the cached copy");
                    Ok(stale.value.clone())
                }
                None => {
                    self.failed = Some((Instant::now(), err.clone()));
                    Err(err)
                }
            },
        }
    }

    /// The failure of a first fetch made moments ago, if any.
    fn recent_failure(&self) -> Option<String> {
        match (&self.fetched, &self.failed) {
            (None, Some((at, err))) if at.elapsed() < RETRY_AFTER => Some(err.clone()),
            _ => None,
        }
    }
}

pub(crate) struct ProviderCache {
    issuer: String,
    http: Arc<dyn OidcHttp>,
    metadata: Mutex<Slot<Metadata>>,
    keys: Mutex<Slot<Vec<Jwk>>>,
}

/// The issuer without a trailing slash, as discovery appends to it.
fn trimmed(issuer: &str) -> &str {
    issuer.trim_end_matches('/')
}

/// Whether an issuer may be configured: `https`, or plain `http` to this machine.
pub fn issuer_allowed(issuer: &str) -> bool {
    allowed_url(issuer, issuer)
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
            metadata: Mutex::new(Slot::default()),
            keys: Mutex::new(Slot::default()),
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
        let mut slot = self.metadata.lock().await;
        if let Some(fetched) = slot.fetched.as_ref()
            && fetched.at.elapsed() < FRESH_FOR
        {
            return Ok(fetched.value.clone());
        }
        if let Some(err) = slot.recent_failure() {
            return Err(err);
        }
        let url = format!("{}/.well-known/openid-configuration", trimmed(&self.issuer));
        let outcome = self.discover(&url).await;
        slot.settle("discovery", outcome)
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
        let mut slot = self.keys.lock().await;
        if let Some(fetched) = slot.fetched.as_ref()
            && !refresh
            && fetched.at.elapsed() < FRESH_FOR
        {
            return Ok(fetched.value.clone());
        }
        if let Some(err) = slot.recent_failure() {
            return Err(err);
        }
        let outcome = self.fetch_keys().await;
        slot.settle("jwks", outcome)
    }

    async fn fetch_keys(&self) -> Result<Vec<Jwk>, String> {
        let metadata = self.metadata().await?;
        let set: serde_json::Value = self.get_json("jwks", &metadata.jwks_uri).await?;
        let keys = signing_keys(&set);
        if keys.is_empty() {
            return Err("jwks: no usable signing key".into());
        }
        Ok(keys)
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

    /// A provider at `http://127.0.0.1:9` that answers from `script` and counts the calls.
    struct Scripted {
        calls: std::sync::Mutex<Vec<String>>,
        up: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl OidcHttp for Scripted {
        async fn get(&self, url: &str, _bearer: Option<&str>) -> Result<HttpReply, String> {
            self.calls.lock().unwrap().push(url.to_owned());
            if !self.up.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("connection refused".into());
            }
            let body = if url.ends_with("/jwks") {
                serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "s",
                    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})
            } else {
                serde_json::json!({"issuer": ISSUER, "authorization_endpoint": format!("{ISSUER}/auth"),
                    "token_endpoint": format!("{ISSUER}/token"), "jwks_uri": format!("{ISSUER}/jwks")})
            };
            Ok(HttpReply {
                status: 200,
                body: body.to_string().into_bytes(),
            })
        }

        async fn post_form(
            &self,
            _url: &str,
            _basic: Option<(&str, &str)>,
            _form: &[(&str, &str)],
        ) -> Result<HttpReply, String> {
            unreachable!("the cache only reads")
        }
    }

    const ISSUER: &str = "http://127.0.0.1:9";

    fn scripted(up: bool) -> (Arc<Scripted>, ProviderCache) {
        let http = Arc::new(Scripted {
            calls: std::sync::Mutex::new(Vec::new()),
            up: std::sync::atomic::AtomicBool::new(up),
        });
        (http.clone(), ProviderCache::new(ISSUER.into(), http))
    }

    #[tokio::test]
    async fn a_provider_that_is_down_is_asked_again_only_after_a_pause() {
        let (http, cache) = scripted(false);
        let first = cache.metadata().await.unwrap_err();
        assert!(first.contains("connection refused"), "{first}");
        // Callers right after get the same answer without a fetch of their own.
        for _ in 0..5 {
            assert_eq!(cache.metadata().await.unwrap_err(), first);
        }
        assert_eq!(http.calls.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn keys_are_refetched_on_request_and_kept_when_a_refetch_fails() {
        let (http, cache) = scripted(true);
        assert_eq!(cache.keys(false).await.unwrap().len(), 1);
        assert_eq!(cache.keys(false).await.unwrap().len(), 1);
        let fetches = |http: &Scripted| {
            http.calls
                .lock()
                .unwrap()
                .iter()
                .filter(|u| u.ends_with("/jwks"))
                .count()
        };
        assert_eq!(fetches(&http), 1, "cached");
        assert_eq!(cache.keys(true).await.unwrap().len(), 1);
        assert_eq!(fetches(&http), 2, "an unknown kid refetches");
        http.up.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            cache.keys(true).await.unwrap().len(),
            1,
            "the keys it had stay in use when the provider does not answer"
        );
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
