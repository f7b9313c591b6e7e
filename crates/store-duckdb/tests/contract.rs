//! The Store contract suite on DuckDB: a fresh database file per case.

use da_store_contract::Subject;
use da_store_duckdb::DuckDbStore;

async fn fresh() -> Subject {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DuckDbStore::open(&dir.path().join("da.duckdb")).expect("open");
    Subject::new(store, dir)
}

da_store_contract::store_contract_tests!(fresh);
