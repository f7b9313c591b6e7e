//! The audit log's hash chain (`API.md` §14): verification, the NDJSON export, and tampering
//! behind the server's back found where it happened — on whichever backend the tests run.

use crate::users::refused;
use da_integration_tests::cli::Da;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestServer, backend};
use da_types::{AuditExportRow, CreateUserRequest};

/// Some audited history: users created, changed and deleted, a failed login.
async fn make_history(server: &TestServer) {
    let admin = server.admin().await;
    for n in 0..4 {
        let user = admin
            .create_user(&CreateUserRequest {
                email: format!("u{n}@example.com"),
                role: Some("viewer".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .user;
        if n % 2 == 0 {
            admin.delete_user(user.id).await.unwrap();
        }
    }
    let _ = server.client().login(ADMIN_EMAIL, "wrong-password").await;
}

async fn export(server: &TestServer, since_seq: u64) -> Vec<AuditExportRow> {
    let response = server
        .admin()
        .await
        .export_audit(since_seq)
        .await
        .expect("export");
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "NDJSON"
    );
    let text = response.text().await.unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).expect("one row per line"))
        .collect()
}

#[tokio::test]
async fn an_untouched_log_verifies_and_exports_in_chain_order() {
    let server = TestServer::start().await;
    make_history(&server).await;
    let admin = server.admin().await;
    let verified = admin.verify_audit().await.unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(verified.first_bad_seq, None);
    let head = verified.head_hash.clone().unwrap();
    assert_eq!(head.len(), 64);

    let rows = export(&server, 0).await;
    // Verification counted the rows there were then; the export's own login came after.
    assert!(rows.len() as u64 >= verified.rows, "{}", rows.len());
    assert!(rows.len() > 10);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as u64 + 1);
        assert_eq!(row.hash.len(), 64);
    }
    assert_eq!(rows[verified.rows as usize - 1].hash, head);
    assert!(rows.iter().any(|r| r.row.action == "user.delete"));
    let tail = export(&server, 5).await;
    assert_eq!(tail.first().map(|r| r.seq), Some(6));
    assert_eq!(tail[0], rows[5]);

    let bad = server
        .http()
        .get(server.url("/api/admin/audit/export?since_seq=-1"))
        .bearer_auth(server.admin_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Admins only.
    server
        .create_user("viewer@example.com", "viewer", "viewer-password")
        .await;
    let viewer = server
        .signed_in("viewer@example.com", "viewer-password")
        .await;
    assert_eq!(refused(viewer.verify_audit().await).0, 403);
    assert_eq!(refused(server.client().verify_audit().await).0, 401);

    // And through `da`.
    let da = Da::new();
    da.login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    let verify = da.run(&["admin", "audit", "verify"]).await;
    verify.ok();
    assert!(verify.stdout.contains("intact"), "{verify:?}");
    let exported = da
        .run(&["admin", "audit", "export", "--since-seq", "3"])
        .await;
    exported.ok();
    let first: AuditExportRow =
        serde_json::from_str(exported.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first.seq, 4);
    assert!(exported.stderr.contains("Exported"), "{exported:?}");
}

/// Runs `sql` against the stopped server's database, behind its back.
async fn tamper(data_dir: &std::path::Path, database_url: Option<&str>, sql: &str) {
    match backend() {
        Backend::DuckDb => {
            let conn = duckdb::Connection::open(data_dir.join("da.duckdb")).unwrap();
            conn.execute_batch(sql).unwrap();
        }
        Backend::Postgres => {
            let (client, connection) =
                tokio_postgres::connect(database_url.unwrap(), tokio_postgres::NoTls)
                    .await
                    .unwrap();
            tokio::spawn(connection);
            client.batch_execute(sql).await.unwrap();
        }
    }
}

#[tokio::test]
async fn edits_and_deletions_made_while_the_server_was_stopped_are_found() {
    let server = TestServer::start().await;
    make_history(&server).await;
    assert!(server.admin().await.verify_audit().await.unwrap().ok);
    let database_url = server.database_url.clone();

    // An edit of one row's details.
    let dir = server.stop().await;
    tamper(
        dir.path(),
        database_url.as_deref(),
        "UPDATE audit_log SET actor_email = 'someone-else@example.com' WHERE seq = 4",
    )
    .await;
    let server = TestServer::builder().data_dir(dir).start().await;
    let verified = server.admin().await.verify_audit().await.unwrap();
    assert!(!verified.ok);
    assert_eq!(verified.first_bad_seq, Some(4), "{verified:?}");
    assert_eq!(verified.rows, 3);
    assert!(server.log().contains("hash chain is broken"));

    // A deletion earlier in the log is the first break now.
    let dir = server.stop().await;
    tamper(
        dir.path(),
        database_url.as_deref(),
        "DELETE FROM audit_log WHERE seq = 2",
    )
    .await;
    let server = TestServer::builder().data_dir(dir).start().await;
    let verified = server.admin().await.verify_audit().await.unwrap();
    assert_eq!(verified.first_bad_seq, Some(2), "{verified:?}");

    let da = Da::new();
    da.login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    let out = da.run(&["admin", "audit", "verify"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("seq 2"), "{out:?}");
}

#[tokio::test]
async fn a_replaced_hash_is_found_at_its_row() {
    let server = TestServer::start().await;
    make_history(&server).await;
    let database_url = server.database_url.clone();
    let dir = server.stop().await;
    // A hash that is not the one of its row's content and predecessor.
    tamper(
        dir.path(),
        database_url.as_deref(),
        "UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = 3",
    )
    .await;
    let server = TestServer::builder().data_dir(dir).start().await;
    let verified = server.admin().await.verify_audit().await.unwrap();
    assert_eq!(verified.first_bad_seq, Some(3), "{verified:?}");
}

#[tokio::test]
async fn a_cut_off_tail_and_a_row_outside_the_chain_are_found() {
    let server = TestServer::start().await;
    make_history(&server).await;
    let last = export(&server, 0).await.last().unwrap().seq;
    let database_url = server.database_url.clone();
    let dir = server.stop().await;
    // The newest row goes: the chain up to it is intact, but the head says there was one more.
    tamper(
        dir.path(),
        database_url.as_deref(),
        &format!("DELETE FROM audit_log WHERE seq = {last}"),
    )
    .await;
    let server = TestServer::builder().data_dir(dir).start().await;
    let verified = server.admin().await.verify_audit().await.unwrap();
    assert_eq!(verified.first_bad_seq, Some(last), "{verified:?}");
    assert_eq!(verified.rows, last - 1);

    // A second copy of a row under a seq that is taken: the walk alone would skip it.
    // (PostgreSQL refuses such a row outright: `seq` is unique and NOT NULL there.)
    if backend() == Backend::Postgres {
        return;
    }
    let server2 = TestServer::start().await;
    make_history(&server2).await;
    let database_url = server2.database_url.clone();
    let dir = server2.stop().await;
    tamper(
        dir.path(),
        database_url.as_deref(),
        "INSERT INTO audit_log (id, occurred_at, action, params, seq, hash) \
         SELECT '00000000-0000-0000-0000-00000000beef', occurred_at, action, params, seq, hash \
         FROM audit_log WHERE seq = 3",
    )
    .await;
    let server2 = TestServer::builder().data_dir(dir).start().await;
    let verified = server2.admin().await.verify_audit().await.unwrap();
    assert!(!verified.ok, "{verified:?}");
}
