//! What a server function fails with, as the UI shows it. Shared by the server side (which
//! makes it from a domain error in `server`) and the browser side.

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
            // The framework's own text can quote what was submitted: not for the page.
            _ => "Something went wrong. Reload the page and try again.".to_owned(),
        };
        UiError { detail }
    }
}
