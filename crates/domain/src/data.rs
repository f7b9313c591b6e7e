//! What the datasets side keeps: where the files live, the engine, and the catalog cache
//! (`datasets` holds the rules that use them).

use crate::engine::Engine;
use crate::query_check;
use crate::store::DatasetRecord;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// Where datasets live and what runs queries on them.
pub struct Data {
    /// `DA_DATASETS_DIR`: `<name>.<format>` files, and `.incoming/` for uploads in flight.
    pub dir: PathBuf,
    pub engine: Arc<dyn Engine>,
    /// `DA_QUERY_TIMEOUT_SECONDS`, for the refusal's sentence.
    pub query_timeout_seconds: u64,
    /// The engine's built-in macros a query may not call (see `query_check`).
    pub(crate) refused_functions: std::collections::BTreeSet<String>,
}

impl Data {
    pub fn new(dir: PathBuf, engine: Arc<dyn Engine>, query_timeout_seconds: u64) -> Data {
        let refused_functions = query_check::refused_macros(&engine.builtin_macros());
        Data {
            dir,
            engine,
            query_timeout_seconds,
            refused_functions,
        }
    }
}

/// Every dataset with its grants, as last written; `None` until first read.
#[derive(Default)]
pub(crate) struct Catalog {
    pub(crate) datasets: RwLock<Option<Arc<Vec<DatasetRecord>>>>,
    /// Held from reading the store to storing what was read, so a reload that read earlier
    /// never lands after one that read later (a revoked grant must not come back).
    pub(crate) reloading: tokio::sync::Mutex<()>,
    /// Held across an upload's swap and record: two uploads of one name never interleave
    /// (the file on disk and its record stay one upload's).
    pub(crate) uploading: tokio::sync::Mutex<()>,
}
