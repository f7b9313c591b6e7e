//! Login CSRF (`API.md` §1 "Cross-site protection"): requests that *create* a session cookie
//! (the HTML login form, the login and link-redeeming server functions, the JSON logins) are
//! refused from another site, like every cookie-authenticated write.

use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use serde_json::json;

const EVIL: &str = "https://evil.example";

fn has_session_cookie(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap_or("").starts_with("access_token=ey"))
}

async fn assert_refused(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 403, "{what}");
    assert!(!has_session_cookie(&response), "{what} set a cookie");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["detail"], "Cross-site request refused", "{what}");
}

#[tokio::test]
async fn a_cross_site_login_form_post_is_refused() {
    let server = TestServer::start().await;
    let form = [("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)];
    let cross = server
        .post("/login")
        .header("origin", EVIL)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_refused(cross, "POST /login from another origin").await;
    let by_referer = server
        .post("/login")
        .header("referer", format!("{EVIL}/phish"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_refused(by_referer, "POST /login with a foreign Referer").await;
    let by_fetch_metadata = server
        .post("/login")
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_refused(
        by_fetch_metadata,
        "POST /login with Sec-Fetch-Site: cross-site",
    )
    .await;

    // Our own page posting the form still signs in.
    let same = server
        .post("/login")
        .header("origin", &server.base_url)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 303);
    assert!(has_session_cookie(&same));
}

#[tokio::test]
async fn cross_site_server_function_logins_and_redeems_are_refused() {
    let server = TestServer::start().await;
    let login = server
        .post("/rpc/login")
        .header("origin", EVIL)
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_refused(login, "the login server function").await;
    let redeem = server
        .post("/rpc/password/redeem")
        .header("origin", EVIL)
        .form(&[
            ("setup", "true"),
            ("email", ADMIN_EMAIL),
            ("token", "x"),
            ("password", "password-123"),
        ])
        .send()
        .await
        .unwrap();
    assert_refused(redeem, "the redeem server function").await;
}

#[tokio::test]
async fn cross_site_json_logins_are_refused_but_scripts_without_an_origin_are_not() {
    let server = TestServer::start().await;
    let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let cross = server
        .post("/auth/token")
        .header("origin", EVIL)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_refused(cross, "POST /auth/token from another origin").await;
    // curl, the CLI and CI jobs send no Origin.
    let script = server.post("/auth/token").json(&body).send().await.unwrap();
    assert_eq!(script.status(), 200);
    // A PAT or session in the Authorization header is not a browser's ambient credential.
    let jwt = server.admin_token().await;
    let with_header = server
        .post("/auth/logout")
        .header("origin", EVIL)
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), 204);
}

#[tokio::test]
async fn an_operator_on_loopback_can_sign_in_while_a_public_url_is_set() {
    let server = TestServer::builder()
        .env("DA_PUBLIC_URL", "https://da.example")
        .start()
        .await;
    let form = [("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)];
    let local = server
        .post("/login")
        .header("origin", &server.base_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 303);
    assert!(has_session_cookie(&local));
    // The public origin (behind a proxy, Host loopback) is ours as well.
    let proxied = server
        .post("/login")
        .header("origin", "https://da.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 303);
    let foreign = server
        .post("/login")
        .header("origin", "https://da.example.evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_refused(foreign, "a look-alike origin").await;
}
