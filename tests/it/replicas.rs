//! Several `da-server` replicas on one PostgreSQL database (API.md §15): a credential works on
//! every replica, a change made on one applies on the others within a second, the safeguards
//! hold across them, and a replica that dies loses nothing acknowledged.
//!
//! These run with `DA_TEST_BACKEND=postgres` (as `./dev test` runs them); on DuckDB, which
//! allows one process per database, there is nothing to test and they say so.

use crate::passwords::link_parts;
use crate::users::refused;
use da_client::{Client, ClientError};
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestServer, backend};
use da_types::{ResetConfirmRequest, UpdateUserRequest, UserListParams};
use std::time::{Duration, Instant};

/// Two replicas on one fresh database, or `None` on DuckDB.
async fn two_replicas() -> Option<(TestServer, TestServer)> {
    if backend() != Backend::Postgres {
        eprintln!("replica tests need DA_TEST_BACKEND=postgres; skipped on DuckDB");
        return None;
    }
    let a = TestServer::start().await;
    let b = TestServer::builder().replica_of(&a).start().await;
    Some((a, b))
}

async fn token(server: &TestServer, email: &str, password: &str) -> String {
    server
        .client()
        .login(email, password)
        .await
        .expect("login")
        .access_token
}

/// How long until `client` is refused with `(status, detail)`; panics past a second.
async fn refused_within_a_second(client: &Client, status: u16, detail: &str) -> Duration {
    let start = Instant::now();
    loop {
        match client.me().await {
            Err(err) if err.status() == Some(status) && err.detail() == Some(detail) => {
                return start.elapsed();
            }
            Err(err) => panic!("expected ({status}, {detail}), got {err}"),
            Ok(_) if start.elapsed() > Duration::from_secs(1) => {
                panic!("still accepted a second after the change: wanted ({status}, {detail})")
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

#[tokio::test]
async fn a_session_made_on_one_replica_works_on_the_other() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let admin_token = token(&a, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let on_b = b.client().with_token(admin_token);
    assert_eq!(on_b.me().await.unwrap().email, ADMIN_EMAIL);
    // A user made on B signs in on A, and sees themself the same way on both.
    let user = b
        .create_user("ann@example.com", "analyst", "password-123")
        .await;
    let ann = token(&a, "ann@example.com", "password-123").await;
    assert_eq!(b.client().with_token(&ann).me().await.unwrap().id, user.id);
    assert_eq!(a.client().with_token(&ann).me().await.unwrap().id, user.id);
}

#[tokio::test]
async fn revocations_on_one_replica_apply_on_the_other_within_a_second() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let admin_a = a.admin().await;
    let mut waits = Vec::new();

    // Logout on A.
    a.create_user("l@example.com", "analyst", "password-123")
        .await;
    let t = token(&a, "l@example.com", "password-123").await;
    let on_b = b.client().with_token(&t);
    on_b.me().await.unwrap();
    a.client().with_token(&t).logout().await.unwrap();
    waits.push(refused_within_a_second(&on_b, 401, "Session revoked").await);

    // Deactivation on A.
    let d = a
        .create_user("d@example.com", "analyst", "password-123")
        .await;
    let t = token(&a, "d@example.com", "password-123").await;
    let on_b = b.client().with_token(&t);
    on_b.me().await.unwrap();
    admin_a.deactivate_user(d.id).await.unwrap();
    waits.push(refused_within_a_second(&on_b, 401, "Account deactivated").await);

    // Deletion on A.
    let x = a
        .create_user("x@example.com", "analyst", "password-123")
        .await;
    let t = token(&a, "x@example.com", "password-123").await;
    let on_b = b.client().with_token(&t);
    on_b.me().await.unwrap();
    admin_a.delete_user(x.id).await.unwrap();
    waits.push(refused_within_a_second(&on_b, 401, "User not found").await);

    // A personal access token revoked on A.
    a.create_user("p@example.com", "analyst", "password-123")
        .await;
    let owner = a.signed_in("p@example.com", "password-123").await;
    let pat = owner
        .create_token(&da_types::CreateTokenRequest {
            name: "ci".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let on_b = b.client().with_token(&pat.token);
    on_b.me().await.unwrap();
    owner.revoke_token(pat.item.id).await.unwrap();
    waits.push(refused_within_a_second(&on_b, 401, "Token revoked").await);

    // A demotion on A: B's next answers carry the new role.
    let m = a
        .create_user("m@example.com", "km_admin", "password-123")
        .await;
    let t = token(&a, "m@example.com", "password-123").await;
    let on_b = b.client().with_token(&t);
    assert_eq!(on_b.me().await.unwrap().role.as_str(), "km_admin");
    admin_a
        .update_user(
            m.id,
            &UpdateUserRequest {
                role: Some("viewer".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let start = Instant::now();
    while on_b.me().await.unwrap().role.as_str() != "viewer" {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "B still sees the old role a second later"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    waits.push(start.elapsed());
    eprintln!("revoke on A → refused on B after {waits:?}");
}

#[tokio::test]
async fn two_admins_deactivating_each_other_on_two_replicas_leave_one() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    for round in 0..5 {
        let (ea, eb) = (
            format!("a{round}@example.com"),
            format!("b{round}@example.com"),
        );
        let ua = a.create_user(&ea, "admin", "password-123").await;
        let ub = a.create_user(&eb, "admin", "password-123").await;
        // The only active admins are the two; each acts on their own replica.
        let on_a = a.signed_in(&ea, "password-123").await;
        let on_b = b.signed_in(&eb, "password-123").await;
        for other in on_a
            .list_users(&UserListParams {
                role: Some("admin".into()),
                active: Some("true".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .0
        {
            if other.id != ua.id && other.id != ub.id {
                on_a.deactivate_user(other.id).await.unwrap();
            }
        }
        let (ra, rb) = tokio::join!(on_a.deactivate_user(ub.id), on_b.deactivate_user(ua.id));
        let outcomes: [Result<(), ClientError>; 2] = [ra.map(|_| ()), rb.map(|_| ())];
        assert_eq!(
            outcomes.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        let survivor = if outcomes[0].is_ok() { &on_a } else { &on_b };
        let (_, active_admins) = survivor
            .list_users(&UserListParams {
                role: Some("admin".into()),
                active: Some("true".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(active_admins, 1, "round {round}");
        // Back to one admin per round: the survivor re-activates everyone for the next.
        for user in survivor
            .list_users(&UserListParams {
                role: Some("admin".into()),
                active: Some("false".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .0
        {
            if user.email == ADMIN_EMAIL {
                survivor.activate_user(user.id).await.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_reset_link_redeemed_on_both_replicas_at_once_works_once() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let admin = a.admin().await;
    for round in 0..5 {
        let email = format!("r{round}@example.com");
        let user = a.create_user(&email, "viewer", "password-123").await;
        let link = admin.issue_reset_link(user.id).await.unwrap();
        let (email, secret) = link_parts(&link.reset_url);
        let confirm = |password: &str| ResetConfirmRequest {
            email: email.clone(),
            token: secret.clone(),
            password: password.into(),
        };
        let (ca, cb) = (confirm("from-replica-a"), confirm("from-replica-b"));
        let (on_a, on_b) = (a.client(), b.client());
        let (ra, rb) = tokio::join!(
            on_a.confirm_password_reset(&ca),
            on_b.confirm_password_reset(&cb)
        );
        let wins = [ra.is_ok(), rb.is_ok()];
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "round {round}");
        let loser = if wins[0] { rb } else { ra };
        assert_eq!(
            refused(loser),
            (400, "Invalid or expired reset link".into()),
            "round {round}"
        );
        let password = if wins[0] {
            "from-replica-a"
        } else {
            "from-replica-b"
        };
        token(&b, &email, password).await;
    }
}

#[tokio::test]
async fn a_replica_killed_loses_nothing_it_acknowledged() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let admin_a = a.admin().await;
    let mut made = Vec::new();
    for n in 0..20 {
        made.push(
            a.create_user(&format!("k{n}@example.com"), "viewer", "password-123")
                .await,
        );
    }
    let survivor_token = token(&a, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    admin_a.deactivate_user(made[0].id).await.unwrap();
    a.kill_hard().await;
    // Everything A acknowledged is on B: the users, the deactivation, the session A issued.
    let on_b = b.client().with_token(survivor_token);
    let (users, total) = on_b
        .list_users(&UserListParams {
            q: Some("k".into()),
            limit: Some("100".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 20);
    assert!(users.iter().any(|u| u.id == made[0].id && !u.active));
    token(&b, "k1@example.com", "password-123").await;
}

/// Runs `sql` on the cluster's `postgres` database (as its superuser), beside `url`'s.
async fn on_cluster(url: &str, sql: &str) {
    let (cluster, rest) = url.rsplit_once('/').expect("a database URL");
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    let (client, connection) = tokio_postgres::connect(
        &format!("{cluster}/postgres?{query}"),
        tokio_postgres::NoTls,
    )
    .await
    .expect("connect to the cluster");
    tokio::spawn(connection);
    client.batch_execute(sql).await.expect("run on the cluster");
}

#[tokio::test]
async fn a_replica_that_loses_its_database_answers_503_and_recovers() {
    if backend() != Backend::Postgres {
        eprintln!("needs DA_TEST_BACKEND=postgres; skipped on DuckDB");
        return;
    }
    let server = TestServer::start().await;
    let admin = server.admin().await;
    assert_eq!(admin.health_detailed().await.unwrap().storage, "postgres");
    let url = server.database_url.clone().unwrap();
    let name = url
        .rsplit('/')
        .next()
        .and_then(|last| last.split('?').next())
        .unwrap()
        .to_owned();
    // The database goes away: no new connections, and every open one is cut.
    on_cluster(
        &url,
        &format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ),
    )
    .await;
    let err = admin
        .health_detailed()
        .await
        .expect_err("no database, no answer");
    assert_eq!(
        (err.status(), err.detail()),
        (Some(503), Some(da_types::detail::UNAVAILABLE))
    );
    // It comes back; the replica recovers by itself.
    on_cluster(
        &url,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
    )
    .await;
    let start = Instant::now();
    loop {
        match admin.health_detailed().await {
            Ok(health) => {
                assert_eq!(health.storage, "postgres");
                break;
            }
            Err(err) if err.status() == Some(503) => {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "still unavailable 20 s after the database came back"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("expected 503 or recovery, got {err}"),
        }
    }
    // And what it serves is whole: sign-ins and writes work again.
    server
        .create_user("back@example.com", "viewer", "password-123")
        .await;
    token(&server, "back@example.com", "password-123").await;
}

#[tokio::test]
async fn the_back_off_for_an_account_holds_across_replicas() {
    if backend() != Backend::Postgres {
        eprintln!("needs DA_TEST_BACKEND=postgres; skipped on DuckDB");
        return;
    }
    let a = TestServer::builder()
        .env("DA_TRUSTED_PROXY_HOPS", "1")
        .start()
        .await;
    let b = TestServer::builder()
        .env("DA_TRUSTED_PROXY_HOPS", "1")
        .replica_of(&a)
        .start()
        .await;
    let login_from = |server: &TestServer, password: &str| {
        server
            .post("/auth/token")
            .header("x-forwarded-for", "203.0.113.7")
            .json(&serde_json::json!({ "email": ADMIN_EMAIL, "password": password }))
            .send()
    };
    // Five wrong guesses on A…
    for _ in 0..5 {
        assert_eq!(
            login_from(&a, "wrong-password").await.unwrap().status(),
            401
        );
    }
    // …and the guesser moving to B is slowed down there at once. (A announces each outcome
    // before it answers; one more try covers the millisecond the news takes to arrive. Alone,
    // B would allow five.)
    let first = login_from(&b, "wrong-password").await.unwrap().status();
    if first != 429 {
        assert_eq!(first, 401);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            login_from(&b, "wrong-password").await.unwrap().status(),
            429,
            "B let the guesser on after A locked them out"
        );
    }
    // The owner elsewhere is not locked out on either.
    assert!(a.client().login(ADMIN_EMAIL, ADMIN_PASSWORD).await.is_ok());
    assert!(b.client().login(ADMIN_EMAIL, ADMIN_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn a_dataset_opened_on_one_replica_is_readable_on_the_other_and_closed_again() {
    if backend() != Backend::Postgres {
        eprintln!("needs DA_TEST_BACKEND=postgres; skipped on DuckDB");
        return;
    }
    // One datasets directory, as a shared volume would be.
    let shared = tempfile::tempdir().unwrap();
    let dir = shared.path().to_str().unwrap();
    let a = TestServer::builder()
        .env("DA_DATASETS_DIR", dir)
        .start()
        .await;
    let b = TestServer::builder()
        .env("DA_DATASETS_DIR", dir)
        .replica_of(&a)
        .start()
        .await;
    let admin_a = a.admin().await;
    b.create_user("v@example.com", "viewer", "password-123")
        .await;
    let viewer_on_b = b.signed_in("v@example.com", "password-123").await;
    assert!(viewer_on_b.list_datasets().await.unwrap().is_empty());
    let csv = std::fs::read(da_integration_tests::fixture_path("people.csv")).unwrap();
    admin_a
        .put_dataset("people", da_types::DatasetFormat::Csv, None, csv)
        .await
        .unwrap();
    let open = |min_role: Option<&str>| da_types::UpdateDatasetRequest {
        min_role: Some(min_role.map(str::to_owned)),
        ..Default::default()
    };
    admin_a
        .update_dataset("people", &open(Some("viewer")))
        .await
        .unwrap();
    let names = |list: Vec<da_types::Dataset>| list.into_iter().map(|d| d.name).collect::<Vec<_>>();
    // B's catalog hears of it: the viewer sees and queries the dataset there.
    let start = Instant::now();
    while names(viewer_on_b.list_datasets().await.unwrap()) != ["people"] {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "B's catalog is stale"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let answer = viewer_on_b
        .query(&da_types::QueryRequest {
            sql: "SELECT count(*) AS n FROM people".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(answer.rows.len(), 1);
    // Closed on A: gone on B within a second.
    admin_a.update_dataset("people", &open(None)).await.unwrap();
    let start = Instant::now();
    while !viewer_on_b.list_datasets().await.unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "B still shows a closed dataset"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
