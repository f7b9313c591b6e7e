//! The `da` CLI this server hands out (`API.md` §8): which binary, its checksum, and the install
//! script with this server's URL baked in. The REST routes and the `/install` page both read it
//! from here, so they never disagree.

use crate::error::Error;
use crate::services::{ClientInfo, Services};
use da_types::{CliRelease, InstallInfo, detail};
use std::path::PathBuf;

/// The file name of the CLI in `DA_CLI_DIST_DIR`, and the one it is downloaded under.
pub const CLI_FILENAME: &str = "da";
pub const DOWNLOAD_PATH: &str = "/cli/download";
const INSTALL_TEMPLATE: &str = include_str!("install.sh");

impl Services {
    /// Where the CLI binary to hand out would be; whether it is there is for the caller to find
    /// out off the async runtime (no file-system calls here).
    pub fn cli_binary_path(&self) -> Option<PathBuf> {
        Some(
            self.inner
                .config
                .cli_dist_dir
                .as_deref()?
                .join(CLI_FILENAME),
        )
    }

    /// `GET /cli/latest`: version, file name, download path and SHA-256; all `None` without a
    /// binary.
    pub async fn cli_release(&self) -> Result<CliRelease, Error> {
        let Some(path) = self.cli_binary_path() else {
            return Ok(CliRelease::default());
        };
        let services = self.clone();
        let sha256 = tokio::task::spawn_blocking(move || services.inner.cli_checksum.sum(&path))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(match sha256 {
            Some(sha256) => CliRelease {
                // The CLI is built from the same workspace as the server, at the same version.
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                filename: Some(CLI_FILENAME.to_owned()),
                download_url_path: Some(DOWNLOAD_PATH.to_owned()),
                sha256: Some(sha256),
            },
            None => CliRelease::default(),
        })
    }

    /// This server's URL as clients should use it: `DA_PUBLIC_URL`, else the origin the request
    /// was addressed to. It ends up inside a shell script, so anything outside the shape of
    /// `API.md` §8 is refused.
    pub fn install_server_url(&self, client: &ClientInfo) -> Result<String, Error> {
        let url = self
            .public_base_url(client)
            .map(|url| url.trim_end_matches('/'))
            .filter(|url| is_safe_server_url(url))
            .ok_or_else(|| Error::invalid(detail::BAD_SERVER_URL))?;
        Ok(url.to_owned())
    }

    /// `GET /cli/install.sh`.
    pub fn install_script(&self, client: &ClientInfo) -> Result<String, Error> {
        let url = self.install_server_url(client)?;
        Ok(render_install_script(&url))
    }

    /// What the `/install` page shows.
    pub async fn install_info(&self, client: &ClientInfo) -> Result<InstallInfo, Error> {
        Ok(InstallInfo {
            server_url: self.install_server_url(client).ok(),
            cli: self.cli_release().await?,
        })
    }
}

/// `^https?://[A-Za-z0-9._\-\[\]:]+(/[A-Za-z0-9._\-/]*)?$`, without a regex engine.
pub fn is_safe_server_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    let authority_ok = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-[]:".contains(&b));
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
    authority_ok && path_ok
}

/// `'…'` for a POSIX shell: safe for any text.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn render_install_script(server_url: &str) -> String {
    INSTALL_TEMPLATE
        .replace("@SERVER_URL_QUOTED@", &shell_quote(server_url))
        .replace("@SERVER_URL@", server_url)
        .replace("@OS@", std::env::consts::OS)
        .replace("@ARCH@", std::env::consts::ARCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_follow_the_contract_shape() {
        for good in [
            "http://127.0.0.1:8000",
            "https://da.example.com",
            "https://da.example.com/base/path",
            "http://[::1]:8000",
            "https://da-1.internal_x/",
        ] {
            assert!(is_safe_server_url(good), "{good}");
        }
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http://x$(id)",
            "http://x;rm -rf ~",
            "http://x\nid",
            "http://x`id`",
            "http://x/a b",
            "http://x/'",
            "http://x/?q=1",
            "HTTP://x",
            "http://user@x",
        ] {
            assert!(!is_safe_server_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn the_script_has_the_url_and_no_placeholders() {
        let script = render_install_script("https://da.example.com");
        assert!(script.starts_with("#!/bin/sh"));
        assert!(script.contains("server='https://da.example.com'"));
        assert!(!script.contains('@'), "a placeholder is left");
    }
}
