//! Where a browser may be sent after logging in: only a local path, never another site.

/// Returns `next` when it is a safe local path, otherwise `/`.
///
/// Safe means: starts with exactly one `/`, contains no `//` and no `\` anywhere (browsers treat
/// `\` like `/`), no control characters, and no scheme.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_local_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.contains("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        // A scheme can only precede the first `/`; with a leading `/` none can, but an encoded
        // one can still be decoded by a careless consumer later: refuse `:` before any `?`.
        && !path.split(['?', '#']).next().unwrap_or("").contains(':')
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn local_paths_pass() {
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(Some("/tokens?x=1")), "/tokens?x=1");
        // The contract refuses `//` anywhere, even inside the query.
        assert_eq!(safe_next(Some("/a?u=http://x")), "/");
    }

    #[test]
    fn everything_else_becomes_root() {
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/a//b",
            "/x\ny",
            "/x\ty",
            "evil",
            "/javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
