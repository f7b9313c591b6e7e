//! Replicas starting together migrate once; a database newer than the binary is refused.

use da_domain::Store;
use da_store_postgres::{ConnectError, PgOptions, PgStore, latest_version};

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    let url = da_pg_testing::cluster().fresh_database().await;
    let mut starting = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let url = url.clone();
        starting.spawn(async move { PgStore::connect(&url, &PgOptions::default()).await });
    }
    for started in starting.join_all().await {
        let store = started.expect("every replica starts");
        assert_eq!(store.schema_version().await.unwrap(), latest_version());
    }
    let applied: i64 = admin(&url)
        .await
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, latest_version(), "each migration applied once");
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused() {
    let url = da_pg_testing::cluster().fresh_database().await;
    PgStore::connect(&url, &PgOptions::default()).await.unwrap();
    admin(&url)
        .await
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', now())",
            &[&(latest_version() + 1)],
        )
        .await
        .unwrap();
    let refused = PgStore::connect(&url, &PgOptions::default()).await;
    match refused {
        Err(err @ ConnectError::TooNew { .. }) => {
            assert!(
                err.to_string()
                    .contains("newer than this da-server supports")
            );
        }
        Err(other) => panic!("expected TooNew, got {other}"),
        Ok(_) => panic!("a newer database must be refused"),
    }
}

/// A database from before the hash chain: its rows are numbered in the order they happened and
/// hashed by the migration; new rows extend the chain.
#[tokio::test]
async fn rows_written_before_the_chain_join_it_when_migrated() {
    let url = da_pg_testing::cluster().fresh_database().await;
    let db = admin(&url).await;
    db.batch_execute(include_str!("../migrations/0001_init.sql"))
        .await
        .unwrap();
    db.batch_execute(
        "CREATE TABLE schema_migrations (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL);
         INSERT INTO schema_migrations VALUES (1, 'init', now());
         INSERT INTO audit_log (id, occurred_at, action, params) VALUES
           ('00000000-0000-0000-0000-000000000003', '2026-01-03 00:00:00Z', 'c', '{}'),
           ('00000000-0000-0000-0000-000000000001', '2026-01-01 00:00:00Z', 'a', '{\"k\": 1}'),
           ('00000000-0000-0000-0000-000000000002', '2026-01-02 00:00:00.5Z', 'b', '{}');",
    )
    .await
    .unwrap();
    let store = PgStore::connect(&url, &PgOptions::default()).await.unwrap();
    store
        .insert_audit(&da_domain::audit::record("d", "test"))
        .await
        .unwrap();
    let rows = store.audit_chain(0, 10).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.record.action.as_str()).collect();
    assert_eq!(actions, ["a", "b", "c", "d"]);
    let mut check = da_domain::audit_chain::ChainCheck::default();
    assert!(rows.iter().all(|row| check.push(row)), "{rows:?}");
    assert_eq!(check.rows(), 4);
}
