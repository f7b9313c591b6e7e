//! The CLI distribution (`API.md` §8): what `/cli/latest` answers and what the `/install` page
//! shows.

use serde::{Deserialize, Serialize};

/// `GET /cli/latest`: the `da` binary this server ships; every field is null when it has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CliRelease {
    pub version: Option<String>,
    pub filename: Option<String>,
    pub download_url_path: Option<String>,
    /// Lower-case hex SHA-256 of the binary.
    pub sha256: Option<String>,
}

/// What the `/install` page needs: where this server is and how to get the CLI from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallInfo {
    /// This server's URL as the install script bakes it in; `None` when the request's Host (and
    /// no `DA_PUBLIC_URL`) gives no usable URL.
    pub server_url: Option<String>,
    pub cli: CliRelease,
}
