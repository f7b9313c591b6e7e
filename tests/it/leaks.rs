//! Leaked tokens (`API.md` §14): a report revokes every active PAT in it at once (from an admin
//! or a scanner holding `DA_LEAK_REPORT_SECRET`), tells the owner by mail, and `da token scan`
//! finds tokens offline and reports them.

use crate::cli_sign_in::audited;
use crate::users::refused;
use da_integration_tests::cli::Da;
use da_integration_tests::smtp::SmtpSink;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use da_types::{CreateTokenRequest, LeakReport};
use serde_json::json;

const SCANNER_SECRET: &str = "scanner-secret-0123456789";

fn report(tokens: &[&str], source: &str) -> LeakReport {
    LeakReport {
        tokens: tokens.iter().map(|t| t.to_string()).collect(),
        source: Some(source.into()),
    }
}

async fn token_of(client: &da_client::Client, name: &str) -> String {
    client
        .create_token(&CreateTokenRequest {
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .token
}

#[tokio::test]
async fn a_report_revokes_the_active_tokens_in_it_and_mails_their_owners() {
    let sink = SmtpSink::start().await;
    let server = TestServer::builder()
        .env("DA_SMTP_URL", &sink.url)
        .env("DA_SMTP_FROM", "da <noreply@da.example>")
        .env("DA_PUBLIC_URL", "https://da.example")
        .start()
        .await;
    server
        .create_user("ann@example.com", "analyst", "ann-password-1")
        .await;
    let ann = server.signed_in("ann@example.com", "ann-password-1").await;
    let leaked = token_of(&ann, "laptop script").await;
    let kept = token_of(&ann, "ci").await;
    let already = token_of(&ann, "old").await;
    let items = ann.tokens().await.unwrap();
    let old = items.iter().find(|t| t.name == "old").unwrap().id;
    ann.revoke_token(old).await.unwrap();
    // A well-formed token nobody was ever given.
    let unknown = {
        let body = format!("da_pat_{}", "Q".repeat(32));
        format!("{body}{}", da_types::pat_format::checksum(&body))
    };

    let admin = server.admin().await;
    let outcome = admin
        .report_leaked(&report(
            &[
                &leaked,
                "not a token",
                &already,
                &unknown,
                &leaked,
                "da_pat_short",
            ],
            "github.com/acme/app/blob/main/.env",
        ))
        .await
        .unwrap();
    assert_eq!((outcome.checked, outcome.revoked), (6, 1));
    assert_eq!(
        refused(server.client().with_token(&leaked).me().await),
        (401, "Token revoked".into())
    );
    server.client().with_token(&kept).me().await.unwrap();
    assert_eq!(audited(&server, "token.leak_revoke").await, 1);
    let row = admin
        .audit(&da_types::AuditParams {
            action_prefix: Some("token.leak_revoke".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(row.params["source"], "github.com/acme/app/blob/main/.env");
    assert_eq!(row.params["reported_by"], "admin");
    assert_eq!(row.actor_email.as_deref(), Some(ADMIN_EMAIL));

    let mail = sink.wait_for("ann@example.com").await;
    assert!(mail.data.contains("laptop script"), "{}", mail.data);
    assert!(mail.data.contains("github.com/acme/app"), "{}", mail.data);
    assert!(!mail.data.contains(&leaked), "never the secret");

    // Reporting it again changes nothing.
    let again = admin
        .report_leaked(&report(&[&leaked], "again"))
        .await
        .unwrap();
    assert_eq!(again.revoked, 0);
}

#[tokio::test]
async fn a_scanner_reports_with_the_shared_secret_and_nobody_else_without_admin_rights() {
    let server = TestServer::builder()
        .env("DA_LEAK_REPORT_SECRET", SCANNER_SECRET)
        .start()
        .await;
    let admin = server.admin().await;
    let leaked = token_of(&admin, "deploy").await;
    let scanner = server.client().with_token(SCANNER_SECRET);
    let outcome = scanner
        .report_leaked(&report(&[&leaked], "secret-scanning"))
        .await
        .unwrap();
    assert_eq!(outcome.revoked, 1);
    let rows = admin
        .audit(&da_types::AuditParams {
            action_prefix: Some("token.leak_revoke".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert_eq!(rows[0].params["reported_by"], "scanner");
    assert_eq!(rows[0].actor_id, None);

    let body = json!({"tokens": [leaked]});
    let wrong = server
        .post("/api/tokens/leaked")
        .bearer_auth("scanner-secret-wrong-one")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let anonymous = server
        .post("/api/tokens/leaked")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    server
        .create_user("ann@example.com", "analyst", "ann-password-1")
        .await;
    let ann = server.signed_in("ann@example.com", "ann-password-1").await;
    assert_eq!(
        refused(ann.report_leaked(&report(&[&leaked], "x")).await),
        (403, "Admin access required".into())
    );
    let too_many: Vec<String> = (0..1001).map(|n| format!("x{n}")).collect();
    let big = admin
        .report_leaked(&LeakReport {
            tokens: too_many,
            source: None,
        })
        .await;
    assert_eq!(
        refused(big),
        (400, "tokens must hold at most 1000 strings".into())
    );
    let empty = admin.report_leaked(&report(&[], "nothing")).await.unwrap();
    assert_eq!((empty.checked, empty.revoked), (0, 0));
    let malformed = server
        .post("/api/tokens/leaked")
        .bearer_auth(SCANNER_SECRET)
        .json(&json!({"tokens": "da_pat_x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 422);
    let stranger = server
        .post("/api/tokens/leaked")
        .json(&json!({"tokens": "da_pat_x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stranger.status(),
        401,
        "who asks comes before what is asked"
    );
}

#[tokio::test]
async fn da_token_scan_finds_tokens_offline_and_reports_them() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let leaked = token_of(&admin, "oops").await;
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("deploy.env");
    std::fs::write(&env, format!("HOST=x\nDA_TOKEN={leaked}\n")).unwrap();
    let clean = dir.path().join("clean.txt");
    std::fs::write(&clean, "nothing here da_pat_\n").unwrap();

    let da = Da::new();
    let quiet = da.run(&["token", "scan", clean.to_str().unwrap()]).await;
    quiet.ok();
    let found = da
        .run(&["token", "scan", dir.path().to_str().unwrap()])
        .await;
    found.expect_code(1);
    assert!(
        found.stdout.contains(&format!("{}:2", env.display())),
        "{found:?}"
    );
    assert!(found.stdout.contains(&leaked[..12]), "{found:?}");
    assert!(!found.stdout.contains(&leaked), "never the whole secret");
    assert!(!found.stderr.contains(&leaked), "never the whole secret");
    let piped = da
        .run_with_stdin(&["token", "scan", "--json"], &format!("x {leaked} y"))
        .await;
    piped.expect_code(1);
    assert_eq!(piped.json()["findings"][0]["path"], "<stdin>");
    // Nothing was sent: the token still works.
    server.client().with_token(&leaked).me().await.unwrap();

    da.login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    let reported = da
        .run(&[
            "token",
            "scan",
            "--report",
            "--source",
            "pre-commit on laptop",
            env.to_str().unwrap(),
        ])
        .await;
    reported.expect_code(1);
    assert!(
        reported.stderr.contains("1 token(s) revoked"),
        "{reported:?}"
    );
    assert_eq!(
        refused(server.client().with_token(&leaked).me().await).1,
        "Token revoked"
    );
}
