//! Two stores on one database, as two replicas would be: what one broadcasts, the other hears;
//! a listener that loses its connection says so, and resyncs when it is back.

use da_domain::Store;
use da_domain::cache::Invalidation;
use da_domain::store::RemoteChange;
use da_store_postgres::{LISTENER_NAME, PgOptions, PgStore};
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use uuid::Uuid;

async fn replica(url: &str) -> PgStore {
    PgStore::connect(url, &PgOptions::default())
        .await
        .expect("connect")
}

/// The next change heard within `within`, skipping those `skip` accepts.
async fn next(
    heard: &mut Receiver<RemoteChange>,
    within: Duration,
    skip: impl Fn(&RemoteChange) -> bool,
) -> Option<RemoteChange> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, heard.recv()).await {
            Ok(Ok(change)) if skip(&change) => continue,
            Ok(Ok(change)) => return Some(change),
            _ => return None,
        }
    }
}

fn not_stale(change: &RemoteChange) -> bool {
    !matches!(change, RemoteChange::Stale(_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_one_replica_broadcasts_the_other_hears() {
    let url = da_pg_testing::cluster().fresh_database().await;
    let (a, b) = (replica(&url).await, replica(&url).await);
    let mut heard = b.remote_changes().expect("postgres has other replicas");
    // Wait until B listens: its first word is a resync.
    assert_eq!(
        next(&mut heard, Duration::from_secs(10), |_| false).await,
        Some(RemoteChange::Resync)
    );
    let items = vec![
        Invalidation::User(Uuid::new_v4()),
        Invalidation::Session(Uuid::new_v4()),
        Invalidation::Token(Uuid::new_v4()),
        Invalidation::Group(Uuid::new_v4()),
        Invalidation::Datasets,
    ];
    a.broadcast(&items).await.unwrap();
    assert_eq!(
        next(&mut heard, Duration::from_secs(1), not_stale).await,
        Some(RemoteChange::Stale(items))
    );
    // Many at once arrive whole, in chunks.
    let many: Vec<Invalidation> = (0..1000)
        .map(|_| Invalidation::Session(Uuid::new_v4()))
        .collect();
    a.broadcast(&many).await.unwrap();
    let mut got = Vec::new();
    while got.len() < many.len() {
        match next(&mut heard, Duration::from_secs(2), not_stale).await {
            Some(RemoteChange::Stale(chunk)) => got.extend(chunk),
            other => panic!("expected the rest of the sessions, got {other:?}"),
        }
    }
    assert_eq!(got, many);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_listener_says_so_and_resyncs_when_back() {
    let url = da_pg_testing::cluster().fresh_database().await;
    let (a, b) = (replica(&url).await, replica(&url).await);
    let mut heard = b.remote_changes().expect("postgres has other replicas");
    assert_eq!(
        next(&mut heard, Duration::from_secs(10), |_| false).await,
        Some(RemoteChange::Resync)
    );
    // Cut every listener on this database (both replicas'), as a network blip would.
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let cut = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database()",
            &[&LISTENER_NAME],
        )
        .await
        .unwrap();
    assert_eq!(cut, 2, "one listener per replica");
    assert_eq!(
        next(&mut heard, Duration::from_secs(10), |_| false).await,
        Some(RemoteChange::Lost)
    );
    assert_eq!(
        next(&mut heard, Duration::from_secs(10), |c| *c
            == RemoteChange::Lost)
        .await,
        Some(RemoteChange::Resync)
    );
    // Listening again: a change made now is heard.
    let item = vec![Invalidation::User(Uuid::new_v4())];
    let mut sent = false;
    for _ in 0..50 {
        // A's own listener may still be reconnecting; B's is back, which is what counts.
        a.broadcast(&item).await.unwrap();
        if next(&mut heard, Duration::from_millis(200), not_stale).await
            == Some(RemoteChange::Stale(item.clone()))
        {
            sent = true;
            break;
        }
    }
    assert!(sent, "B hears A again after its listener came back");
}
