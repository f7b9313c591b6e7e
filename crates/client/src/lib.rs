//! A typed client for the da REST API (`shared/API.md`), used by the `da` CLI and the tests.
//!
//! Every non-2xx answer becomes [`ClientError::Api`] with the server's `{detail, code}`.

use da_types::{AdminTokenItem, CreateTokenRequest, CreatedToken, TokenItem, TokenListParams};
use da_types::{
    ApiError, AuditPage, AuditParams, BootstrapRequest, ChangePasswordRequest, CreateUserRequest,
    CreatedUser, ErrorCode, HealthDetailed, HealthResponse, InviteLink, LoginRequest, MeResponse,
    MessageResponse, ResetConfirmRequest, ResetLink, ResetRequest, SessionInfo, SetPasswordRequest,
    SetupRequest, TokenResponse, UpdateUserRequest, User, UserListParams,
};
use da_types::{
    AuditVerification, DeviceApproveRequest, DeviceCodeRequest, DeviceCodeResponse,
    DeviceTokenRequest, LeakOutcome, LeakReport, LoginClient, RefreshRequest,
};
use da_types::{
    CreateGroupRequest, Group, GroupListParams, GroupMember, UpdateGroupRequest, UserGroup,
};
use da_types::{
    Dataset, DatasetFormat, QueryRequest, QueryResult, SyncManifest, UpdateDatasetRequest,
};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

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

/// `error sending request: client error (Connect): tcp connect error: Connection refused` —
/// reqwest's own message alone hides the cause a person needs.
fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
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
            .map_err(|e| ClientError::Transport(cause_chain(&e)))?;
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

    /// A browser-like session (one long-lived access token).
    pub async fn login(&self, email: &str, password: &str) -> Result<TokenResponse, ClientError> {
        self.login_as(email, password, LoginClient::Browser).await
    }

    /// `client: "cli"` gives a short access token and a refresh token (`API.md` §13).
    pub async fn login_as(
        &self,
        email: &str,
        password: &str,
        client: LoginClient,
    ) -> Result<TokenResponse, ClientError> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            client,
        };
        Self::send(self.request(Method::POST, "/auth/token").json(&body)).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        Self::send(self.request(Method::POST, "/auth/refresh").json(&body)).await
    }

    pub async fn device_code(
        &self,
        client_name: Option<&str>,
    ) -> Result<DeviceCodeResponse, ClientError> {
        let body = DeviceCodeRequest {
            client_name: client_name.map(str::to_owned),
        };
        Self::send(self.request(Method::POST, "/auth/device/code").json(&body)).await
    }

    /// One poll; the RFC 8628 answers come back as [`ClientError::Api`] with their `code`.
    pub async fn device_token(&self, device_code: &str) -> Result<TokenResponse, ClientError> {
        let body = DeviceTokenRequest {
            device_code: device_code.to_owned(),
        };
        Self::send(self.request(Method::POST, "/auth/device/token").json(&body)).await
    }

    pub async fn decide_device(&self, user_code: &str, approve: bool) -> Result<(), ClientError> {
        let body = DeviceApproveRequest {
            user_code: user_code.to_owned(),
            approve,
        };
        Self::send_empty(
            self.request(Method::POST, "/auth/device/approve")
                .json(&body),
        )
        .await
    }

    pub async fn verify_audit(&self) -> Result<AuditVerification, ClientError> {
        Self::send(self.request(Method::GET, "/api/admin/audit/verify")).await
    }

    /// The NDJSON export as it streams: the response, to read line by line.
    pub async fn export_audit(&self, since_seq: u64) -> Result<reqwest::Response, ClientError> {
        Self::send_raw(
            self.request(Method::GET, "/api/admin/audit/export")
                .query(&[("since_seq", since_seq)]),
        )
        .await
    }

    pub async fn report_leaked(&self, report: &LeakReport) -> Result<LeakOutcome, ClientError> {
        Self::send(
            self.request(Method::POST, "/api/tokens/leaked")
                .json(report),
        )
        .await
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

    /// A paged listing: the items and `X-Total-Count`.
    async fn send_page<T: DeserializeOwned>(
        builder: RequestBuilder,
    ) -> Result<(Vec<T>, u64), ClientError> {
        let response = Self::send_raw(builder).await?;
        let total = response
            .headers()
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ClientError::Decode("missing X-Total-Count".into()))?;
        let items = response
            .json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((items, total))
    }

    /// For answers without a body (204).
    async fn send_empty(builder: RequestBuilder) -> Result<(), ClientError> {
        Self::send_raw(builder).await.map(|_| ())
    }

    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), ClientError> {
        let body = ChangePasswordRequest {
            current_password: current.to_owned(),
            new_password: new.to_owned(),
        };
        Self::send_empty(self.request(Method::POST, "/api/me/password").json(&body)).await
    }

    pub async fn my_sessions(&self) -> Result<Vec<SessionInfo>, ClientError> {
        Self::send(self.request(Method::GET, "/api/me/sessions")).await
    }

    pub async fn revoke_my_session(&self, id: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/api/me/sessions/{id}"))).await
    }

    pub async fn request_password_reset(
        &self,
        email: &str,
    ) -> Result<MessageResponse, ClientError> {
        let body = ResetRequest {
            email: email.to_owned(),
        };
        Self::send(
            self.request(Method::POST, "/auth/password/reset")
                .json(&body),
        )
        .await
    }

    pub async fn confirm_password_reset(
        &self,
        request: &ResetConfirmRequest,
    ) -> Result<TokenResponse, ClientError> {
        Self::send(
            self.request(Method::POST, "/auth/password/reset/confirm")
                .json(request),
        )
        .await
    }

    pub async fn complete_setup(
        &self,
        request: &SetupRequest,
    ) -> Result<TokenResponse, ClientError> {
        Self::send(
            self.request(Method::POST, "/auth/password/setup")
                .json(request),
        )
        .await
    }

    /// `GET /api/users`: one page and `X-Total-Count`.
    pub async fn list_users(
        &self,
        params: &UserListParams,
    ) -> Result<(Vec<User>, u64), ClientError> {
        Self::send_page(self.request(Method::GET, "/api/users").query(params)).await
    }

    pub async fn user(&self, id: Uuid) -> Result<User, ClientError> {
        Self::send(self.request(Method::GET, &format!("/api/users/{id}"))).await
    }

    pub async fn create_user(
        &self,
        request: &CreateUserRequest,
    ) -> Result<CreatedUser, ClientError> {
        Self::send(self.request(Method::POST, "/api/users").json(request)).await
    }

    pub async fn update_user(
        &self,
        id: Uuid,
        request: &UpdateUserRequest,
    ) -> Result<User, ClientError> {
        Self::send(
            self.request(Method::PATCH, &format!("/api/users/{id}"))
                .json(request),
        )
        .await
    }

    pub async fn delete_user(&self, id: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/api/users/{id}"))).await
    }

    pub async fn deactivate_user(&self, id: Uuid) -> Result<User, ClientError> {
        Self::send(self.request(Method::POST, &format!("/api/users/{id}/deactivate"))).await
    }

    pub async fn activate_user(&self, id: Uuid) -> Result<User, ClientError> {
        Self::send(self.request(Method::POST, &format!("/api/users/{id}/activate"))).await
    }

    pub async fn issue_reset_link(&self, id: Uuid) -> Result<ResetLink, ClientError> {
        Self::send(self.request(Method::POST, &format!("/api/users/{id}/reset-password"))).await
    }

    pub async fn resend_invite(&self, id: Uuid) -> Result<InviteLink, ClientError> {
        Self::send(self.request(Method::POST, &format!("/api/users/{id}/invite"))).await
    }

    pub async fn set_user_password(&self, id: Uuid, password: &str) -> Result<(), ClientError> {
        let body = SetPasswordRequest {
            password: password.to_owned(),
        };
        Self::send_empty(
            self.request(Method::POST, &format!("/api/users/{id}/set-password"))
                .json(&body),
        )
        .await
    }

    pub async fn user_sessions(&self, id: Uuid) -> Result<Vec<SessionInfo>, ClientError> {
        Self::send(self.request(Method::GET, &format!("/api/users/{id}/sessions"))).await
    }

    pub async fn revoke_user_sessions(&self, id: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/api/users/{id}/sessions"))).await
    }

    pub async fn audit(&self, params: &AuditParams) -> Result<AuditPage, ClientError> {
        Self::send(self.request(Method::GET, "/api/admin/audit").query(params)).await
    }

    pub async fn create_token(
        &self,
        request: &CreateTokenRequest,
    ) -> Result<CreatedToken, ClientError> {
        Self::send(self.request(Method::POST, "/auth/tokens").json(request)).await
    }

    pub async fn tokens(&self) -> Result<Vec<TokenItem>, ClientError> {
        Self::send(self.request(Method::GET, "/auth/tokens")).await
    }

    pub async fn token(&self, id: Uuid) -> Result<TokenItem, ClientError> {
        Self::send(self.request(Method::GET, &format!("/auth/tokens/{id}"))).await
    }

    pub async fn revoke_token(&self, id: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/auth/tokens/{id}"))).await
    }

    /// `GET /auth/admin/tokens`: one page and `X-Total-Count`.
    pub async fn all_tokens(
        &self,
        params: &TokenListParams,
    ) -> Result<(Vec<AdminTokenItem>, u64), ClientError> {
        Self::send_page(
            self.request(Method::GET, "/auth/admin/tokens")
                .query(params),
        )
        .await
    }

    /// `GET /api/groups`: one page and `X-Total-Count`.
    pub async fn list_groups(
        &self,
        params: &GroupListParams,
    ) -> Result<(Vec<Group>, u64), ClientError> {
        Self::send_page(self.request(Method::GET, "/api/groups").query(params)).await
    }

    pub async fn group(&self, id: Uuid) -> Result<Group, ClientError> {
        Self::send(self.request(Method::GET, &format!("/api/groups/{id}"))).await
    }

    pub async fn create_group(&self, request: &CreateGroupRequest) -> Result<Group, ClientError> {
        Self::send(self.request(Method::POST, "/api/groups").json(request)).await
    }

    pub async fn update_group(
        &self,
        id: Uuid,
        request: &UpdateGroupRequest,
    ) -> Result<Group, ClientError> {
        Self::send(
            self.request(Method::PATCH, &format!("/api/groups/{id}"))
                .json(request),
        )
        .await
    }

    pub async fn delete_group(&self, id: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/api/groups/{id}"))).await
    }

    pub async fn group_members(&self, id: Uuid) -> Result<Vec<GroupMember>, ClientError> {
        Self::send(self.request(Method::GET, &format!("/api/groups/{id}/members"))).await
    }

    pub async fn add_group_member(&self, id: Uuid, user: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::PUT, &format!("/api/groups/{id}/members/{user}")))
            .await
    }

    pub async fn remove_group_member(&self, id: Uuid, user: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/api/groups/{id}/members/{user}")))
            .await
    }

    pub async fn user_groups(&self, id: Uuid) -> Result<Vec<UserGroup>, ClientError> {
        Self::send(self.request(Method::GET, &format!("/api/users/{id}/groups"))).await
    }

    pub async fn admin_revoke_token(&self, id: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/auth/admin/tokens/{id}"))).await
    }

    /// `GET /api/datasets`: what this caller may read.
    pub async fn list_datasets(&self) -> Result<Vec<Dataset>, ClientError> {
        Self::send(self.request(Method::GET, "/api/datasets")).await
    }

    pub async fn dataset(&self, name: &str) -> Result<Dataset, ClientError> {
        Self::send(self.request(Method::GET, &format!("/api/datasets/{name}"))).await
    }

    /// `PUT /api/datasets/{name}`: `body` is the file (streamed by the caller, or bytes).
    /// `true` when the dataset is new.
    pub async fn put_dataset(
        &self,
        name: &str,
        format: DatasetFormat,
        description: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Result<(Dataset, bool), ClientError> {
        let mut builder = self
            .request(Method::PUT, &format!("/api/datasets/{name}"))
            .header(reqwest::header::CONTENT_TYPE, format.content_type())
            .body(body);
        if let Some(description) = description {
            builder = builder.query(&[("description", description)]);
        }
        let response = Self::send_raw(builder).await?;
        let created = response.status() == StatusCode::CREATED;
        let dataset = response
            .json::<Dataset>()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((dataset, created))
    }

    pub async fn update_dataset(
        &self,
        name: &str,
        request: &UpdateDatasetRequest,
    ) -> Result<Dataset, ClientError> {
        Self::send(
            self.request(Method::PATCH, &format!("/api/datasets/{name}"))
                .json(request),
        )
        .await
    }

    pub async fn delete_dataset(&self, name: &str) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::DELETE, &format!("/api/datasets/{name}"))).await
    }

    pub async fn grant_dataset(&self, name: &str, group: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(Method::PUT, &format!("/api/datasets/{name}/grants/{group}")))
            .await
    }

    pub async fn revoke_dataset(&self, name: &str, group: Uuid) -> Result<(), ClientError> {
        Self::send_empty(self.request(
            Method::DELETE,
            &format!("/api/datasets/{name}/grants/{group}"),
        ))
        .await
    }

    /// `GET /api/sync/manifest`.
    pub async fn sync_manifest(&self) -> Result<SyncManifest, ClientError> {
        Self::send(self.request(Method::GET, "/api/sync/manifest")).await
    }

    /// `GET <download_path>`: the response, for the caller to stream to disk.
    pub async fn download(&self, path: &str) -> Result<reqwest::Response, ClientError> {
        Self::send_raw(self.request(Method::GET, path)).await
    }

    /// `POST /api/query` (JSON).
    pub async fn query(&self, request: &QueryRequest) -> Result<QueryResult, ClientError> {
        Self::send(self.request(Method::POST, "/api/query").json(request)).await
    }
}
