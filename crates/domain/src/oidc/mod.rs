//! Single sign-on with OpenID Connect (`API.md` §11): da as a relying party of any provider.
//!
//! `provider` fetches and caches what the identity provider publishes (discovery, JWKS);
//! `id_token` checks what it signs; `flow` binds a sign-in to the browser that started it
//! (state, nonce, PKCE); `sign_in` turns a verified identity into a da session. HTTP reaches
//! the provider only through the [`OidcHttp`] port, which the server implements.

mod flow;
mod id_token;
mod provider;
mod sign_in;

pub use provider::issuer_allowed;
pub use sign_in::{SsoCallback, SsoLogin, SsoStart};

use async_trait::async_trait;
use da_types::{Role, Secret};
use std::sync::Arc;

/// The `DA_OIDC_*` settings, checked by the server.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer identifier; discovery is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// What the "Sign in with …" button says.
    pub name: String,
    /// Space-separated; always includes `openid`.
    pub scopes: String,
    /// The claim that carries the user's groups.
    pub groups_claim: String,
    /// Lower-case email domains that may sign in; empty lets any.
    pub allowed_domains: Vec<String>,
    /// Create unknown users at their first sign-in.
    pub auto_create: bool,
    /// The role such users get.
    pub default_role: Role,
    /// `{DA_PUBLIC_URL}/auth/oidc/callback`.
    pub redirect_uri: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .field("allowed_domains", &self.allowed_domains)
            .field("auto_create", &self.auto_create)
            .field("default_role", &self.default_role)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// An HTTP answer, as the port hands it back. `Debug` shows the body's length only: a token
/// endpoint's answer holds tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpReply")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// Outgoing HTTP to the identity provider. Implementations follow no redirects (a token or
/// key answer must come from the URL the provider published) and time out.
#[async_trait]
pub trait OidcHttp: Send + Sync + 'static {
    /// `GET url`, with `Authorization: Bearer` when `bearer` is given.
    async fn get(&self, url: &str, bearer: Option<&str>) -> Result<HttpReply, String>;
    /// `POST url` with a form body, with HTTP Basic client authentication when `basic` is
    /// given (both parts already form-encoded, as RFC 6749 §2.3.1 asks).
    async fn post_form(
        &self,
        url: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<HttpReply, String>;
}

/// Single sign-on as `Services` is given it: the settings and the port.
#[derive(Clone)]
pub struct Oidc {
    pub settings: OidcSettings,
    pub http: Arc<dyn OidcHttp>,
}

/// What `Services` keeps for single sign-on.
pub(crate) struct RelyingParty {
    pub settings: OidcSettings,
    pub provider: provider::ProviderCache,
    pub flows: flow::FlowKeys,
}

impl RelyingParty {
    pub(crate) fn new(oidc: Oidc, jwt_secret: &[u8]) -> RelyingParty {
        RelyingParty {
            provider: provider::ProviderCache::new(oidc.settings.issuer.clone(), oidc.http),
            flows: flow::FlowKeys::new(jwt_secret),
            settings: oidc.settings,
        }
    }
}
