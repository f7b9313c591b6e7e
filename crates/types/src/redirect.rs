//! Where a browser may be sent after logging in: only a local path, never another site; and the
//! sign-in address that brings it back there.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a query value may keep unencoded (RFC 3986 unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `/login?next=<path and query, encoded>`: the server's redirect and the web UI's own.
pub fn login_url(path_and_query: &str) -> String {
    format!(
        "/login?next={}",
        utf8_percent_encode(path_and_query, QUERY_VALUE)
    )
}

/// `{login_path}?next=<path and query, encoded>`: "Sign in with …", coming back to `next`.
pub fn sso_login_url(login_path: &str, next: &str) -> String {
    format!(
        "{login_path}?next={}",
        utf8_percent_encode(next, QUERY_VALUE)
    )
}

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
    use super::{login_url, safe_next};

    #[test]
    fn the_login_url_encodes_the_target() {
        assert_eq!(login_url("/"), "/login?next=%2F");
        assert_eq!(login_url("/a?b=c&d"), "/login?next=%2Fa%3Fb%3Dc%26d");
        assert_eq!(login_url("/x?a=user."), "/login?next=%2Fx%3Fa%3Duser.");
        assert_eq!(
            super::sso_login_url("/auth/oidc/login", "/a?b=c"),
            "/auth/oidc/login?next=%2Fa%3Fb%3Dc"
        );
    }

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
