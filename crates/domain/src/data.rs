//! What the datasets side keeps: where the files live, the engine, and the catalog cache
//! (`datasets` holds the rules that use them).

use crate::engine::Engine;
use crate::query_check;
use crate::store::DatasetRecord;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Bumped by [`Catalog::forget`]: a reload keeps what it read only if no change was
    /// announced since it began (another replica's grant revoked meanwhile, say).
    pub(crate) generation: AtomicU64,
    /// While the channel to the other replicas is down, nothing read is kept.
    pub(crate) suspended: AtomicBool,
    /// Held from reading the store to storing what was read, so a reload that read earlier
    /// never lands after one that read later (a revoked grant must not come back).
    pub(crate) reloading: tokio::sync::Mutex<()>,
    /// Held across an upload's swap and record: two uploads of one name never interleave
    /// (the file on disk and its record stay one upload's).
    pub(crate) uploading: tokio::sync::Mutex<()>,
}

impl Catalog {
    /// Drops what was read; the next lookup reads the store.
    pub(crate) fn forget(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut slot) = self.datasets.write() {
            *slot = None;
        }
    }

    /// While `suspended`, reloads keep nothing (see [`crate::store::RemoteChange::Lost`]).
    pub(crate) fn suspend(&self, suspended: bool) {
        self.suspended.store(suspended, Ordering::SeqCst);
        self.forget();
    }

    /// Keeps `fresh`, read after `generation` was taken, unless a change came in between.
    pub(crate) fn keep(&self, generation: u64, fresh: &Arc<Vec<DatasetRecord>>) {
        if let Ok(mut slot) = self.datasets.write()
            && self.generation.load(Ordering::SeqCst) == generation
            && !self.suspended.load(Ordering::SeqCst)
        {
            *slot = Some(fresh.clone());
        }
    }
}
