//! Server functions: the SPA's internal RPC under `/rpc/`, each one a thin call into the same
//! services the REST API uses. Not a public API — scripts use `/api` and `/auth`.

use da_types::MeResponse;
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error the UI can show as is: the server's `detail` sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiError {
    pub detail: String,
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let detail = match value {
            ServerFnErrorErr::Request(_) => {
                "Cannot reach the server. Check your connection.".to_owned()
            }
            other => format!("Something went wrong: {other}"),
        };
        UiError { detail }
    }
}

/// Who is signed in (the dashboard's data).
#[server(prefix = "/rpc", endpoint = "me")]
pub async fn get_me() -> Result<MeResponse, UiError> {
    let ctx = crate::server::context()?;
    let caller = crate::server::caller()?;
    ctx.services.me(&caller).await.map_err(crate::server::fail)
}

/// Signs in and sets the session cookie; the page then navigates on.
#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    let request = da_types::LoginRequest { email, password };
    let token = ctx
        .services
        .login(&request, &server::client())
        .await
        .map_err(server::fail)?;
    server::set_session_cookie(&ctx, &token);
    Ok(())
}

/// Ends the current session server-side and clears the cookie.
#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), UiError> {
    use crate::server;
    let ctx = server::context()?;
    if let Ok(caller) = server::caller() {
        ctx.services
            .logout(&caller, &server::client())
            .await
            .map_err(server::fail)?;
    }
    server::clear_session_cookie(&ctx);
    Ok(())
}
