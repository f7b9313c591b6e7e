//! The port to the engine that reads dataset files and runs queries on them (DuckDB, in
//! `da-engine-duckdb`). It is not the store: it opens the files it is handed and nothing
//! else, and never the server's own database.

use async_trait::async_trait;
use da_types::{Column, DatasetFormat};
use std::path::PathBuf;

/// A dataset's file as the engine is handed it: the table name it goes by in a query, and
/// which version of the file it is (its sha256: a replaced file is another version, so an
/// engine that keeps sandboxes between queries never serves one set up for the old file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatasetFile {
    pub name: String,
    pub path: PathBuf,
    pub format: DatasetFormat,
    pub version: String,
}

/// What reading a file told: its rows and its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    pub rows: u64,
    pub columns: Vec<Column>,
}

/// One query: checked SQL over exactly these files, at most `limit` rows back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryJob {
    pub sql: String,
    pub datasets: Vec<DatasetFile>,
    pub limit: u64,
}

/// What follows a query's columns: rows in batches as they are read, then `End`. A stream
/// that stops without `End` broke off (the error, if any, is its last item).
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    Rows(Vec<Vec<serde_json::Value>>),
    /// No more rows; `truncated` when more existed than the job's limit.
    End {
        truncated: bool,
    },
}

/// A query's answer as it is read: its columns, then its [`Chunk`]s. Dropping it stops the
/// query (a client that hung up frees its worker at once).
pub struct RowStream {
    pub columns: Vec<Column>,
    pub chunks: tokio::sync::mpsc::Receiver<Result<Chunk, EngineError>>,
    pub stop: StopOnDrop,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// Runs its action when dropped (an engine's way to stop a query nobody reads any more).
pub struct StopOnDrop(Option<Box<dyn FnOnce() + Send + Sync>>);

impl StopOnDrop {
    pub fn new(stop: impl FnOnce() + Send + Sync + 'static) -> StopOnDrop {
        StopOnDrop(Some(Box::new(stop)))
    }

    /// Nothing to stop any more (the answer came to its end).
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            stop();
        }
    }
}

/// A whole answer, collected from a [`RowStream`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub truncated: bool,
}

impl RowStream {
    /// Reads every chunk (a query's `limit` bounds how many rows that is).
    pub async fn collect(mut self) -> Result<QueryOutput, EngineError> {
        let mut rows = Vec::new();
        while let Some(chunk) = self.chunks.recv().await {
            match chunk? {
                Chunk::Rows(batch) => rows.extend(batch),
                Chunk::End { truncated } => {
                    self.stop.disarm();
                    return Ok(QueryOutput {
                        columns: std::mem::take(&mut self.columns),
                        rows,
                        truncated,
                    });
                }
            }
        }
        Err(EngineError::Internal(
            "the query stopped before its end".into(),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The file is not one of its format, or the SQL failed: DuckDB's message, with every
    /// server path taken out. A client's mistake (400).
    #[error("{0}")]
    Invalid(String),
    /// Cancelled at the query timeout.
    #[error("timed out")]
    TimedOut,
    /// The rows stopped before their end without saying why (the worker gave up on a reader
    /// that fell behind past the timeout).
    #[error("the answer broke off")]
    BrokeOff,
    /// The engine itself failed; logged, never sent.
    #[error("engine: {0}")]
    Internal(String),
}

/// A macro the engine ships (SQL written in terms of other functions): a query's parse names
/// the macro, not what it calls, so `query_check` reads its definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinMacro {
    pub name: String,
    pub schema: String,
    pub definition: String,
}

#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// The engine's built-in macros.
    fn builtin_macros(&self) -> Vec<BuiltinMacro>;
    /// DuckDB's own parse of `sql` (`json_serialize_sql`), which `query_check` reads.
    async fn parse(&self, sql: &str) -> Result<serde_json::Value, EngineError>;
    /// The row count and schema of a file; `Invalid` when it is not a file of that format.
    async fn inspect(&self, file: &DatasetFile) -> Result<FileFacts, EngineError>;
    /// Starts a checked query in a sandbox that reaches only `job.datasets`, on the engine's
    /// own bounded pool, cancelled at its timeout (reading the rows included). Errors before
    /// the first row (SQL errors, a timeout while waiting or planning) come back here.
    async fn stream(&self, job: QueryJob) -> Result<RowStream, EngineError>;
}
