//! A typed client for the da REST API (`shared/API.md`), used by the `da` CLI and the tests.
//!
//! Every non-2xx answer becomes [`ClientError::Api`] with the server's `{detail, code}`.

use da_types::{
    ApiError, BootstrapRequest, ErrorCode, HealthDetailed, HealthResponse, LoginRequest,
    MeResponse, TokenResponse,
};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error envelope.
    #[error("{} ({status})", error.detail)]
    Api { status: u16, error: ApiError },
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The server answered something that is not the expected JSON.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            ClientError::Api { error, .. } => Some(&error.detail),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    base_url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("da-cli/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Client {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: None,
            http,
        })
    }

    /// The same client, sending `Authorization: Bearer <token>`.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn send<T: DeserializeOwned>(builder: RequestBuilder) -> Result<T, ClientError> {
        let response = Self::send_raw(builder).await?;
        response
            .json::<T>()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn send_raw(builder: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let response = builder
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let error = serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| {
            ApiError::new(
                ErrorCode::for_status(status.as_u16()),
                status.canonical_reason().unwrap_or("error").to_owned(),
            )
        });
        Err(ClientError::Api {
            status: status.as_u16(),
            error,
        })
    }

    pub async fn health(&self) -> Result<HealthResponse, ClientError> {
        Self::send(self.request(Method::GET, "/api/health")).await
    }

    pub async fn health_detailed(&self) -> Result<HealthDetailed, ClientError> {
        Self::send(self.request(Method::GET, "/api/health/detailed")).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<TokenResponse, ClientError> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        Self::send(self.request(Method::POST, "/auth/token").json(&body)).await
    }

    pub async fn logout(&self) -> Result<(), ClientError> {
        let response = Self::send_raw(self.request(Method::POST, "/auth/logout")).await?;
        debug_assert_eq!(response.status(), StatusCode::NO_CONTENT);
        Ok(())
    }

    pub async fn bootstrap(
        &self,
        request: &BootstrapRequest,
        bootstrap_token: Option<&str>,
    ) -> Result<TokenResponse, ClientError> {
        let mut builder = self.request(Method::POST, "/auth/bootstrap").json(request);
        if let Some(token) = bootstrap_token {
            builder = builder.header("x-bootstrap-token", token);
        }
        Self::send(builder).await
    }

    pub async fn me(&self) -> Result<MeResponse, ClientError> {
        Self::send(self.request(Method::GET, "/api/me")).await
    }
}
