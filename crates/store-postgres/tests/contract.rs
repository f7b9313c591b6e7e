//! The Store contract suite on PostgreSQL: a fresh database per case on the test process's
//! throw-away cluster.

use da_store_contract::Subject;
use da_store_postgres::{PgOptions, PgStore};

async fn fresh() -> Subject {
    let url = da_pg_testing::cluster().fresh_database().await;
    let store = PgStore::connect(&url, &PgOptions::default())
        .await
        .expect("connect");
    Subject::new(store, ())
}

da_store_contract::store_contract_tests!(fresh);
