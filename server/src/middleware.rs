//! Request pipeline pieces: the Host check, credential resolution (with the browser-vs-API rule
//! and the cross-site check), security headers, and the JSON envelope for framework errors.

use crate::http_error::HttpError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, HOST, LOCATION,
    ORIGIN, REFERER, REFERRER_POLICY, SET_COOKIE, STRICT_TRANSPORT_SECURITY, USER_AGENT,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use da_domain::AuthState;
use da_domain::ClientInfo;
use da_types::detail::{self, AuthFailure};
use da_types::{ApiError, ErrorCode, SESSION_COOKIE};
use std::net::SocketAddr;

/// Where the credential came from; the cross-site check applies to the cookie only.
enum Presented {
    Nothing,
    MalformedHeader,
    Header(String),
    Cookie(String),
}

/// The credential of the `Authorization: Bearer` header, if one is there (for the routes that
/// accept a secret of their own beside a user's credential).
pub fn bearer_credential(headers: &HeaderMap) -> Option<String> {
    match presented_credential(headers) {
        Presented::Header(token) => Some(token),
        _ => None,
    }
}

fn presented_credential(headers: &HeaderMap) -> Presented {
    if let Some(value) = headers.get(AUTHORIZATION) {
        // A header, if present, wins even when it is invalid.
        let token = value.to_str().ok().and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
        });
        return token.map_or(Presented::MalformedHeader, Presented::Header);
    }
    match session_cookie(headers) {
        Some(token) => Presented::Cookie(token),
        None => Presented::Nothing,
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The non-empty value of the cookie `wanted`, if the request carries it.
pub fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// The client's address: the TCP peer, or with N trusted proxy hops the N-th
/// `X-Forwarded-For` entry from the right.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted_hops: usize,
) -> Option<String> {
    if trusted_hops > 0 {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if forwarded.len() >= trusted_hops {
            // Some proxies write `ip:port` (or `[v6]:port`).
            let entry = forwarded[forwarded.len() - trusted_hops];
            let ip = entry
                .parse::<std::net::IpAddr>()
                .or_else(|_| entry.parse::<SocketAddr>().map(|addr| addr.ip()));
            if let Ok(ip) = ip {
                return Some(ip.to_string());
            }
        }
    }
    peer.map(|addr| addr.ip().to_string())
}

/// Paths only machines use: the REST API, server functions, assets and downloads.
pub fn is_machine_path(path: &str) -> bool {
    const MACHINE_PREFIXES: [&str; 5] = ["/api", "/auth", "/cli", "/pkg", "/rpc"];
    MACHINE_PREFIXES.iter().any(|prefix| {
        path == *prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Paths a browser navigates to, which get a redirect to `/login` instead of a JSON 401.
pub fn is_page_path(path: &str) -> bool {
    const PUBLIC_PAGES: [&str; 4] = ["/login", "/setup", "/reset-password", "/install"];
    let last_segment = path.rsplit('/').next().unwrap_or("");
    !is_machine_path(path) && !PUBLIC_PAGES.contains(&path) && !last_segment.contains('.')
}

/// `/login?next=…` for a browser without a valid session.
pub fn login_redirect(path_and_query: &str) -> String {
    da_types::redirect::login_url(path_and_query)
}

/// `host[:port]` as a browser compares it: host lower-cased (IPv6 without brackets), and the
/// scheme's default port dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    /// A `Host` header or a URL's authority part; `None` for anything else (user info, a
    /// path, junk after an IPv6 literal, a port that is not a number).
    fn parse(raw: &str, default_port: Option<u16>) -> Option<Authority> {
        let raw = raw.trim();
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':')?),
            };
            (host, port)
        } else {
            match raw.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (raw, None),
            }
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
        let bracketed = raw.starts_with('[');
        // Brackets hold an IPv6 address and nothing else; a bare host has no colon.
        if !host_ok
            || (bracketed && host.parse::<std::net::Ipv6Addr>().is_err())
            || (!bracketed && host.contains(':'))
        {
            return None;
        }
        let port = match port {
            None => None,
            Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                Some(port.parse::<u16>().ok()?)
            }
            Some(_) => return None,
        };
        Some(Authority {
            host: host.to_ascii_lowercase(),
            port: port.filter(|p| Some(*p) != default_port),
        })
    }

    fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// An `http(s)://authority…` URL's scheme and authority.
fn parse_origin(url: &str) -> Option<(String, Authority)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    Some((scheme, Authority::parse(authority, Some(default_port))?))
}

/// The authority this request was addressed to: its `Host` header (HTTP/1.1), else the
/// request target's authority (HTTP/2).
fn request_authority(req: &Request) -> Option<&str> {
    req.headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

/// Did a browser send this request from another site? Fetch metadata (`Sec-Fetch-Site`) when
/// the browser sends it, else the `Origin` (or, without one, `Referer`) against our own
/// origin: `DA_PUBLIC_URL`, or the host the request was addressed to.
fn is_cross_site(headers: &HeaderMap, host: Option<&str>, public_url: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: typed into the address bar or a bookmark; `same-site` is a sibling
        // subdomain, which is another origin all the same.
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    let source = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(source) = source else {
        // Neither header: not a browser-initiated cross-site request (browsers send Origin on
        // cross-site POSTs).
        return false;
    };
    let Some((scheme, theirs)) = parse_origin(source) else {
        return true; // "null" or garbage
    };
    if public_url.and_then(parse_origin) == Some((scheme.clone(), theirs.clone())) {
        return false;
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let addressed = host.and_then(|host| Authority::parse(host, Some(default_port)));
    addressed.is_none_or(|ours| ours != theirs)
}

/// `scheme://host[:port]` this request was addressed to, if its Host header is a plain host
/// name or address (anything else could smuggle text into links). The scheme is `http`, or
/// what a trusted proxy says in `X-Forwarded-Proto`.
fn request_origin(headers: &HeaderMap, trusted_proxy_hops: usize) -> Option<String> {
    let host = headers.get(HOST)?.to_str().ok()?;
    let sane = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-[]:".contains(&b));
    if !sane {
        return None;
    }
    let forwarded_https = trusted_proxy_hops > 0
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    Some(format!("{scheme}://{host}"))
}

/// Whether a request addressed to `host` is for us: the public URL's host (any port), or a
/// loopback address (a local probe, the server's own tools). Anything else is DNS rebinding or
/// host-header poisoning.
pub fn is_expected_host(host: Option<&str>, public_url: &str) -> bool {
    let Some(addressed) = host.and_then(|host| Authority::parse(host, None)) else {
        return false;
    };
    let ours = parse_origin(public_url).map(|(_, authority)| authority.host);
    Some(&addressed.host) == ours.as_ref() || addressed.is_loopback()
}

/// With `DA_PUBLIC_URL` set, refuses requests addressed to any other host (400 `Unexpected
/// Host header`), but for `/api/health`, which load balancers probe by address.
pub async fn host_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(public_url) = state.config.public_url.as_deref()
        && req.uri().path() != "/api/health"
        && !is_expected_host(request_authority(&req), public_url)
    {
        return HttpError::new(ErrorCode::Invalid, detail::UNEXPECTED_HOST).into_response();
    }
    next.run(req).await
}

/// Resolves the credential of every request into an [`AuthState`] extension (and the client's
/// [`ClientInfo`]), refuses cookie-authenticated cross-site writes, and sends browsers without
/// a valid session to `/login`.
pub async fn resolve_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let client = ClientInfo {
        ip: client_ip(req.headers(), peer, state.config.trusted_proxy_hops),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        origin: request_origin(req.headers(), state.config.trusted_proxy_hops),
    };

    let presented = presented_credential(req.headers());
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Everything but a credential in the Authorization header is what a browser sends on its
    // own: the cookie, and nothing at all (a login form that would *set* the cookie).
    let ambient = matches!(presented, Presented::Cookie(_) | Presented::Nothing);
    let refused = state_changing
        && ambient
        && is_cross_site(
            req.headers(),
            request_authority(&req),
            state.config.public_url.as_deref(),
        );
    if refused {
        return HttpError::new(ErrorCode::Forbidden, detail::CROSS_SITE).into_response();
    }

    let auth = match &presented {
        Presented::Nothing => AuthState::Anonymous,
        Presented::MalformedHeader => AuthState::Refused(AuthFailure::MissingCredential),
        Presented::Header(token) | Presented::Cookie(token) => {
            match state
                .services
                .authenticate(token, client.ip.as_deref())
                .await
            {
                Ok(principal) => AuthState::Authenticated(principal),
                Err(da_domain::Error::Unauthenticated(why)) => AuthState::Refused(why),
                Err(other) => return HttpError::from(other).into_response(),
            }
        }
    };

    let is_navigation = matches!(*req.method(), Method::GET | Method::HEAD);
    if is_navigation && auth.principal().is_none() && is_page_path(req.uri().path()) {
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut response =
            (StatusCode::FOUND, [(LOCATION, login_redirect(target))]).into_response();
        if matches!(presented, Presented::Cookie(_)) {
            // The cookie no longer works: drop it so the browser stops sending it.
            if let Ok(clear) = HeaderValue::from_str(&da_types::cookie::clear_session_cookie(
                state.secure_cookies(),
            )) {
                response.headers_mut().insert(SET_COOKIE, clear);
            }
        }
        return response;
    }

    // Scripts learn when their token runs out without another call.
    let token_expiry = match auth.principal().map(|p| p.credential()) {
        Some(da_domain::Credential::Pat {
            expires_at: Some(at),
            ..
        }) => Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        _ => None,
    };
    req.extensions_mut().insert(client);
    req.extensions_mut().insert(auth);
    let mut response = next.run(req).await;
    if let Some(value) = token_expiry.and_then(|at| HeaderValue::from_str(&at).ok()) {
        response.headers_mut().insert("x-token-expires-at", value);
    }
    response
}

/// How long a request may take, but for those whose length is the client's or the query's:
/// dataset uploads and downloads (their size), and queries (bounded by
/// `DA_QUERY_TIMEOUT_SECONDS` in the engine, waiting included).
const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

fn runs_long(method: &axum::http::Method, path: &str) -> bool {
    let dataset = path.strip_prefix("/api/datasets/");
    (method == axum::http::Method::PUT && dataset.is_some_and(|rest| !rest.contains('/')))
        || dataset.is_some_and(|rest| rest.ends_with("/download"))
        || path == "/api/query"
        // The query page's server function: bounded by DA_QUERY_TIMEOUT_SECONDS instead.
        || path == "/rpc/query"
        // Walking or streaming the whole audit chain grows with the log.
        || path == "/api/admin/audit/verify"
        || path == "/api/admin/audit/export"
}

/// 503 for a request past [`REQUEST_DEADLINE`] (a stuck store, say), except the long ones.
pub async fn deadline(req: Request, next: Next) -> Response {
    if runs_long(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Hardening headers on every response: HSTS behind an https public URL, `no-store` on the
/// machine routes (their answers carry tokens, links and personal data), and on HTML the frame,
/// referrer and content-security policies (a page render sets its own CSP with its nonce).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Static assets may be cached; every other machine answer is about someone.
    let path = req.uri().path();
    let machine = is_machine_path(path) && !path.starts_with("/pkg/");
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if state.secure_cookies() {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if machine && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let is_html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        // Pages are rendered per request for one person and name the bundle by version: the
        // browser revalidates, and shared caches keep nothing.
        if !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        }
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        if !headers.contains_key(CONTENT_SECURITY_POLICY)
            && let Ok(policy) = HeaderValue::from_str(&app::server::content_security_policy(None))
        {
            headers.insert(CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}

/// Framework-made errors (405, 413, a panic's 500, ...) come as plain text; machines get the
/// JSON envelope instead. HTML error pages and JSON bodies pass unchanged.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    let code = ErrorCode::for_status(status.as_u16());
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large".to_owned(),
        StatusCode::NOT_FOUND => "Not found".to_owned(),
        s if s.is_server_error() => "Internal server error".to_owned(),
        s => s.canonical_reason().unwrap_or("Bad request").to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::to_vec(&ApiError::new(code, detail)).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn page_paths_are_told_apart_from_machine_paths() {
        for page in ["/", "/tokens", "/admin/users", "/nope"] {
            assert!(is_page_path(page), "{page}");
        }
        for machine in [
            "/api",
            "/api/me",
            "/auth/token",
            "/cli/download",
            "/pkg/frontend.js",
            "/rpc/login",
            "/login",
            "/setup",
            "/reset-password",
            "/install",
            "/favicon.ico",
            "/da.css",
        ] {
            assert!(!is_page_path(machine), "{machine}");
        }
        assert!(is_page_path("/apiary"));
    }

    #[test]
    fn client_ip_honours_trusted_hops_only() {
        let peer = Some(SocketAddr::from(([10, 0, 0, 9], 5555)));
        let xff = headers(&[
            ("x-forwarded-for", "1.1.1.1, 2.2.2.2"),
            ("x-forwarded-for", "3.3.3.3"),
        ]);
        assert_eq!(client_ip(&xff, peer, 0).as_deref(), Some("10.0.0.9"));
        assert_eq!(client_ip(&xff, peer, 1).as_deref(), Some("3.3.3.3"));
        assert_eq!(client_ip(&xff, peer, 2).as_deref(), Some("2.2.2.2"));
        assert_eq!(client_ip(&xff, peer, 9).as_deref(), Some("10.0.0.9"));
        let spoofed = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(&spoofed, peer, 1).as_deref(), Some("10.0.0.9"));
        let with_ports = headers(&[("x-forwarded-for", "1.1.1.1:5678, [2001:db8::7]:443")]);
        assert_eq!(
            client_ip(&with_ports, peer, 1).as_deref(),
            Some("2001:db8::7")
        );
        assert_eq!(client_ip(&with_ports, peer, 2).as_deref(), Some("1.1.1.1"));
    }

    #[test]
    fn credentials_come_from_the_header_first() {
        let both = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "access_token=xyz"),
        ]);
        assert!(matches!(presented_credential(&both), Presented::Header(t) if t == "abc"));
        let bad = headers(&[
            ("authorization", "Basic abc"),
            ("cookie", "access_token=xyz"),
        ]);
        assert!(matches!(
            presented_credential(&bad),
            Presented::MalformedHeader
        ));
        let empty = headers(&[("authorization", "Bearer   ")]);
        assert!(matches!(
            presented_credential(&empty),
            Presented::MalformedHeader
        ));
        let cookie = headers(&[("cookie", "a=1; access_token=xyz; b=2")]);
        assert!(matches!(presented_credential(&cookie), Presented::Cookie(t) if t == "xyz"));
        assert!(matches!(
            presented_credential(&HeaderMap::new()),
            Presented::Nothing
        ));
    }

    /// `is_cross_site` for a request with these headers (the Host among them).
    fn cross(pairs: &[(&'static str, &str)], public_url: Option<&str>) -> bool {
        let map = headers(pairs);
        let host = map.get(HOST).and_then(|v| v.to_str().ok());
        is_cross_site(&map, host, public_url)
    }

    #[test]
    fn cross_site_detection() {
        let same = [
            ("host", "da.local:8000"),
            ("origin", "http://da.local:8000"),
        ];
        assert!(!cross(&same, None));
        assert!(cross(
            &[
                ("host", "da.local:8000"),
                ("origin", "https://evil.example")
            ],
            None
        ));
        assert!(cross(
            &[("host", "da.local"), ("referer", "http://evil.example/x")],
            None
        ));
        assert!(cross(&[("host", "da.local"), ("origin", "null")], None));
        // Behind a proxy the Host is internal; the public URL is our origin.
        let proxied = [
            ("host", "127.0.0.1:8000"),
            ("origin", "https://da.example.com"),
        ];
        assert!(!cross(&proxied, Some("https://da.example.com")));
        assert!(
            !cross(&proxied, Some("https://DA.example.com:443/")),
            "default port, case"
        );
        // An operator on loopback, with a public URL set, is same-origin too.
        let local = [
            ("host", "127.0.0.1:8000"),
            ("origin", "http://127.0.0.1:8000"),
        ];
        assert!(!cross(&local, Some("https://da.example.com")));
        assert!(!cross(
            &[("host", "da.local"), ("origin", "http://da.local:80")],
            None
        ));
        // A TLS-terminating proxy: the Host says nothing of the scheme, the name matches.
        assert!(!cross(
            &[("host", "da.local"), ("origin", "https://da.local")],
            None
        ));
        assert!(cross(
            &[("host", "da.local"), ("origin", "https://da.local:8443")],
            None
        ));
        assert!(!cross(&[("host", "x")], None));
        let fetched = |site| [("host", "da.local"), ("sec-fetch-site", site)];
        assert!(cross(&fetched("cross-site"), None));
        assert!(cross(&fetched("same-site"), None));
        assert!(!cross(&fetched("same-origin"), None));
        assert!(!cross(&fetched("none"), None));
    }

    #[test]
    fn only_our_host_and_loopback_pass_the_host_check() {
        let ours = "https://da.example.com/base";
        for good in [
            "da.example.com",
            "DA.example.com:443",
            "127.0.0.1:8000",
            "127.9.9.9",
            "[::1]:8000",
            "[::1]",
            "localhost:8000",
        ] {
            assert!(is_expected_host(Some(good), ours), "{good}");
        }
        for bad in [
            "evil.example",
            "da.example.com.evil.example",
            "evil.example:da.example.com",
            "da.example.com:x",
            "10.0.0.1:8000",
            "[2001:db8::1]",
            "[::1]evil.example",
            "[::1]:8000x",
            "[da.example.com]",
            "user@da.example.com",
            "da.example.com/path",
            "",
        ] {
            assert!(!is_expected_host(Some(bad), ours), "{bad}");
        }
        assert!(!is_expected_host(None, ours));
    }

    #[test]
    fn the_request_origin_comes_from_a_sane_host_header_only() {
        let origin = |pairs: &[(&'static str, &str)], hops| request_origin(&headers(pairs), hops);
        assert_eq!(
            origin(&[("host", "da.example:8000")], 0).as_deref(),
            Some("http://da.example:8000")
        );
        assert_eq!(
            origin(&[("host", "[::1]:8000")], 0).as_deref(),
            Some("http://[::1]:8000")
        );
        assert_eq!(origin(&[("host", "evil.example/x?")], 0), None);
        assert_eq!(origin(&[("host", "a b")], 0), None);
        assert_eq!(origin(&[], 0), None);
        let proxied = [("host", "da.example"), ("x-forwarded-proto", "https")];
        assert_eq!(origin(&proxied, 1).as_deref(), Some("https://da.example"));
        assert_eq!(origin(&proxied, 0).as_deref(), Some("http://da.example"));
    }
}
