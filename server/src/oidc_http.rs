//! The single sign-on HTTP port, over reqwest: no redirects followed (a key or token answer must
//! come from the URL the provider published), short timeouts, bounded bodies.

use async_trait::async_trait;
use da_domain::oidc::{HttpReply, OidcHttp};
use std::time::Duration;

/// Bytes read of an answer at most; more is cut off (and then fails to parse).
const MAX_BODY: usize = (1 << 20) + 1;

pub struct ReqwestOidcHttp {
    client: reqwest::Client,
}

impl ReqwestOidcHttp {
    pub fn new() -> anyhow::Result<ReqwestOidcHttp> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("da-server/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ReqwestOidcHttp { client })
    }

    async fn reply(request: reqwest::RequestBuilder) -> Result<HttpReply, String> {
        let mut response = request.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_BODY {
                body.truncate(MAX_BODY);
                break;
            }
        }
        Ok(HttpReply { status, body })
    }
}

/// reqwest's error with its causes, which say what actually failed (DNS, TLS, refused, …).
fn describe(err: reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait]
impl OidcHttp for ReqwestOidcHttp {
    async fn get(&self, url: &str, bearer: Option<&str>) -> Result<HttpReply, String> {
        let mut request = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        Self::reply(request).await
    }

    async fn post_form(
        &self,
        url: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<HttpReply, String> {
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        Self::reply(request).await
    }
}
