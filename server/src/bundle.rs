//! The web UI's bundle (wasm, its JS glue, the CSS) under a content-addressed path.
//!
//! At start-up the server hashes the bundle's files; pages reference them under
//! `/pkg/<hash>/…`, served with `Cache-Control: public, max-age=31536000, immutable`, and the HTML
//! itself is `no-cache`. So a browser never runs an old bundle against new HTML after an upgrade,
//! and never downloads an unchanged one twice. The unversioned `/pkg/…` paths still answer (with
//! `no-cache`), for pages rendered before the upgrade.

use sha2::{Digest, Sha256};
use std::path::Path;

/// The files whose content makes the bundle's version.
const FILES: [&str; 3] = ["frontend.js", "frontend_bg.wasm", "da.css"];

/// 16 hex digits of the SHA-256 over the bundle files in `pkg_dir` (their names and bytes);
/// missing files count as empty, so a server without a bundle still gets a stable version.
pub fn version(pkg_dir: &Path) -> String {
    let mut hasher = Sha256::new();
    for name in FILES {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        if let Ok(bytes) = std::fs::read(pkg_dir.join(name)) {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
    }
    hex::encode(&hasher.finalize()[..8])
}

/// `Cache-Control` of the versioned bundle.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_follows_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let empty = version(dir.path());
        assert_eq!(empty.len(), 16);
        std::fs::write(dir.path().join("frontend.js"), "one").unwrap();
        let one = version(dir.path());
        assert_ne!(one, empty);
        assert_eq!(version(dir.path()), one, "stable");
        std::fs::write(dir.path().join("frontend.js"), "two").unwrap();
        assert_ne!(version(dir.path()), one);
    }
}
