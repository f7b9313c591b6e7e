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
