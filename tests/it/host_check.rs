//! Host-header poisoning: mailed links come from `DA_PUBLIC_URL` only, a foreign `Host` is
//! refused once the public URL is known, and SMTP without a public URL does not start.

use da_integration_tests::smtp::SmtpSink;
use da_integration_tests::{ADMIN_EMAIL, TestServer};
use serde_json::json;

#[tokio::test]
async fn smtp_without_a_public_url_refuses_to_start_and_says_why() {
    let sink = SmtpSink::start().await;
    let err = TestServer::builder()
        .env("DA_SMTP_URL", &sink.url)
        .env("DA_SMTP_FROM", "da <noreply@da.example>")
        .try_start()
        .await
        .err()
        .expect("SMTP without DA_PUBLIC_URL must not start");
    assert!(err.contains("DA_PUBLIC_URL"), "{err}");
    assert!(err.contains("DA_SMTP_URL"), "{err}");
}

#[tokio::test]
async fn a_foreign_host_header_is_refused_when_the_public_url_is_set() {
    let server = TestServer::builder()
        .env("DA_PUBLIC_URL", "https://da.example")
        .start()
        .await;
    let port = server.base_url.rsplit(':').next().unwrap().to_owned();
    let status = |path: &'static str, host: String| {
        let request = server.get(path).header("host", host);
        async move { request.send().await.unwrap() }
    };
    for host in [
        "evil.example",
        "evil.example:443",
        "da.example.evil.example",
    ] {
        let response = status("/api/me", host.to_owned()).await;
        assert_eq!(response.status(), 400, "{host}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["detail"], "Unexpected Host header", "{host}");
        assert_eq!(body["code"], "invalid");
        // Pages too: a rebinding page must not get HTML either.
        assert_eq!(status("/login", host.to_owned()).await.status(), 400);
    }
    // Load-balancer probes may use any name.
    assert_eq!(
        status("/api/health", "evil.example".into()).await.status(),
        200
    );
    // Our own name and loopback are fine.
    for host in [
        "da.example".to_owned(),
        "DA.example".to_owned(),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(
            status("/api/me", host.clone()).await.status(),
            401,
            "{host} should pass the host check (and then lack a credential)"
        );
    }
}

#[tokio::test]
async fn a_reset_mail_links_to_the_public_url_whatever_host_the_request_named() {
    let (server, sink) = crate::passwords::server_with_mail().await;
    // The poisoning attempt itself is refused outright…
    let poisoned = server
        .post("/auth/password/reset")
        .header("host", "evil.example")
        .json(&json!({ "email": ADMIN_EMAIL }))
        .send()
        .await
        .unwrap();
    assert_eq!(poisoned.status(), 400);
    // …and a request addressed to loopback still gets a link to the public URL.
    let honest = server
        .post("/auth/password/reset")
        .json(&json!({ "email": ADMIN_EMAIL }))
        .send()
        .await
        .unwrap();
    assert_eq!(honest.status(), 200);
    let mail = sink.wait_for(ADMIN_EMAIL).await;
    let link = mail.link().expect("a link");
    assert!(
        link.starts_with("https://da.example/reset-password?"),
        "{link}"
    );
    assert_eq!(sink.mails().len(), 1, "the refused request sent nothing");
}
