use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("access_token="))
        .map(str::to_owned)
}

#[tokio::test]
async fn browsers_without_a_session_are_sent_to_login_with_next() {
    let server = TestServer::start().await;
    for (path, next) in [
        ("/", "%2F"),
        ("/tokens?tab=mine", "%2Ftokens%3Ftab%3Dmine"),
        ("/no-such-page", "%2Fno-such-page"),
    ] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(location(&response), format!("/login?next={next}"));
    }
}

#[tokio::test]
async fn api_clients_get_json_not_redirects() {
    let server = TestServer::start().await;
    let response = server
        .get("/api/me")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn the_login_page_renders_with_security_headers() {
    let server = TestServer::start().await;
    let response = server.get("/login?next=/x").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce")
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"action="/login""#), "{html}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );
    // The bundle is named by its content hash: /pkg/<16 hex>/frontend.js.
    let hashed = html.split("/pkg/").skip(1).any(|rest| {
        let (hash, file) = rest.split_at(rest.len().min(16));
        hash.len() == 16
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
            && file.starts_with("/frontend.js")
    });
    assert!(hashed, "the hydration script is referenced by hash: {html}");
}

#[tokio::test]
async fn the_plain_form_login_sets_the_cookie_and_honours_a_safe_next() {
    let server = TestServer::start().await;
    let response = server
        .post("/login")
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "/tokens?x=1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/tokens?x=1");
    let cookie = session_cookie(&response).expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http gets no Secure flag");
    let jwt = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("access_token=")
        .to_owned();

    let dashboard = server.get_with_cookie("/", &jwt).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    let html = dashboard.text().await.unwrap();
    assert!(html.contains(ADMIN_EMAIL), "the dashboard names the user");
}

#[tokio::test]
async fn unsafe_next_targets_become_root() {
    let server = TestServer::start().await;
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let response = server
            .post("/login")
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/", "{next}");
    }
}

#[tokio::test]
async fn a_failed_form_login_comes_back_with_an_error_code_only() {
    let server = TestServer::start().await;
    let response = server
        .post("/login")
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", "wrong-password"),
            ("next", "/x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Fx&error=credentials");
    assert!(session_cookie(&response).is_none());

    let page = server
        .get("/login?next=%2Fx&error=credentials")
        .send()
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Invalid email or password")
    );
    let crafted = server
        .get("/login?error=%3Cscript%3Ealert(1)%3C/script%3E")
        .send()
        .await
        .unwrap();
    let html = crafted.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"));
}

#[tokio::test]
async fn the_form_logout_revokes_the_session() {
    let server = TestServer::start().await;
    let jwt = server.admin_token().await;
    let response = server
        .post("/logout")
        .header("cookie", format!("access_token={jwt}"))
        .header("origin", &server.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
    assert!(session_cookie(&response).unwrap().contains("Max-Age=0"));
    let me = server
        .get("/api/me")
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
}

#[tokio::test]
async fn cookie_authenticated_cross_site_writes_are_refused() {
    let server = TestServer::start().await;
    let jwt = server.admin_token().await;
    let response = server
        .post("/auth/logout")
        .header("cookie", format!("access_token={jwt}"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"detail": "Cross-site request refused", "code": "forbidden"})
    );
    // The same request with the Authorization header is not affected.
    let bearer = server
        .post("/auth/logout")
        .bearer_auth(&jwt)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 204);
}

#[tokio::test]
async fn a_stale_cookie_is_dropped_on_redirect() {
    let server = TestServer::start().await;
    let response = server
        .get("/")
        .header("cookie", "access_token=stale")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert!(session_cookie(&response).unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn signed_in_users_get_an_html_404_for_unknown_pages() {
    let server = TestServer::start().await;
    let jwt = server.admin_token().await;
    let response = server
        .get_with_cookie("/no-such-page", &jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn server_functions_answer_with_real_statuses() {
    let server = TestServer::start().await;
    let response = server
        .post("/rpc/login")
        .form(&[("email", ADMIN_EMAIL), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["detail"], "Invalid email or password");

    let ok = server
        .post("/rpc/login")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(session_cookie(&ok).is_some());
}

/// Data pages arrive complete in the first HTML response: without JavaScript nothing would
/// ever swap a "Loading…" placeholder for the data.
#[tokio::test]
async fn the_dashboard_is_fully_rendered_on_the_server() {
    let server = TestServer::start().await;
    let jwt = server.admin_token().await;
    let response = server.get_with_cookie("/", &jwt).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"data-test="me-email">{ADMIN_EMAIL}<"#)),
        "{html}"
    );
    assert!(!html.contains("Loading…"), "{html}");
}

#[tokio::test]
async fn admin_pages_are_403_html_for_non_admins_and_rendered_for_admins() {
    let server = TestServer::start().await;
    server
        .create_user("viewer@example.com", "viewer", "password-123")
        .await;
    let viewer = server
        .client()
        .login("viewer@example.com", "password-123")
        .await
        .unwrap()
        .access_token;
    let admin = server.admin_token().await;
    for path in ["/admin/users", "/admin/audit", "/admin/tokens"] {
        let response = server.get_with_cookie(path, &viewer).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("Admins only"), "{path}");
        assert!(
            !html.contains("nav-admin-users"),
            "no admin links for a viewer"
        );

        let response = server.get_with_cookie(path, &admin).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("nav-admin-users"), "{path}");
    }
    let users = server
        .get_with_cookie("/admin/users", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        users.contains("viewer@example.com"),
        "the table is server-rendered"
    );
}

#[tokio::test]
async fn link_pages_are_public_and_profile_needs_a_session() {
    let server = TestServer::start().await;
    for path in [
        "/setup?email=a%40b.co&token=x",
        "/reset-password",
        "/reset-password?email=a%40b.co&token=x",
    ] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let response = server.get("/profile").send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(location(&response), "/login?next=%2Fprofile");
}

#[tokio::test]
async fn markup_in_names_is_escaped_in_server_rendered_html() {
    let server = TestServer::start().await;
    server
        .admin()
        .await
        .create_user(&da_types::CreateUserRequest {
            email: "x@example.com".into(),
            name: Some("<script>alert(1)</script>".into()),
            password: Some("password-123".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let html = server
        .get_with_cookie("/admin/users", &server.admin_token().await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"));
}
