//! What a server function fails with, as the UI shows it. Shared by the server side (which
//! makes it from a domain error in `server`) and the browser side.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error the UI can show as is: the server's `detail` sentence.
///
/// `signed_out` marks a refused credential (the session was revoked or ran out): the browser
/// then goes to `/login?next=<this page>` as the error is decoded — the one place every
/// server function's answer passes — so no page is left half-dead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "WireError")]
pub struct UiError {
    pub detail: String,
    #[serde(default)]
    pub signed_out: bool,
}

impl UiError {
    pub fn new(detail: impl Into<String>) -> UiError {
        UiError {
            detail: detail.into(),
            signed_out: false,
        }
    }
}

/// `UiError` as it travels.
#[derive(Deserialize)]
struct WireError {
    detail: String,
    #[serde(default)]
    signed_out: bool,
}

impl From<WireError> for UiError {
    fn from(wire: WireError) -> UiError {
        #[cfg(feature = "hydrate")]
        if wire.signed_out {
            crate::navigation::to_login_from_here();
        }
        UiError {
            detail: wire.detail,
            signed_out: wire.signed_out,
        }
    }
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
            // The framework's own text can quote what was submitted: not for the page.
            _ => "Something went wrong. Reload the page and try again.".to_owned(),
        };
        UiError::new(detail)
    }
}
