//! [`Engine`] on DuckDB. Every query runs in an in-memory instance that can reach the query's
//! dataset files and nothing else: `allowed_paths` holds exactly those files, external access
//! is then switched off and the configuration locked, so even SQL that slipped past
//! `query_check` could open no other file, attach no database and change no setting.
//!
//! Queries run on a pool of their own: `concurrency` worker threads at a lower CPU priority
//! (nice 10, which the instances' own threads inherit), admitted by a semaphore, with a memory
//! and thread cap per instance, interrupted at the timeout. Sign-in, token checks and pages run
//! on the async runtime at normal priority, so a flood of heavy queries leaves them the CPU.
//! A sandbox is kept for the next query over the very same files (same names, same versions):
//! setting one up costs more than a small query.

use async_trait::async_trait;
use da_domain::engine::{
    BuiltinMacro, Chunk, DatasetFile, Engine, EngineError, FileFacts, QueryJob, RowStream,
    StopOnDrop,
};
use da_types::{Column, DatasetFormat};
use duckdb::{Config, Connection};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// How much one query may use, and how many run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub concurrency: usize,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// DuckDB threads per query.
    pub threads: u32,
}

/// Parses running at once, at most (each on an instance of its own, kept for the next).
const PARSERS: usize = 8;

/// Instances for `json_serialize_sql`, one per parse running: parses wait only for each other
/// and only past [`PARSERS`] at once, so a burst of queries cannot open instances without end.
struct Parsers {
    limits: Limits,
    running: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
}

impl Parsers {
    fn take(&self) -> Result<Connection, EngineError> {
        let kept = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match kept {
            Some(conn) => Ok(conn),
            None => sandbox(
                &Limits {
                    threads: 1,
                    ..self.limits
                },
                &[],
            ),
        }
    }

    fn put(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < PARSERS {
            idle.push(conn);
        }
    }
}

/// The nice value of the query workers (and of DuckDB's threads, which inherit it).
const WORKER_NICENESS: i32 = 10;

/// Sandboxes kept between queries, at most.
const IDLE_SANDBOXES: usize = 16;

type Work = Box<dyn FnOnce() + Send>;

/// Sandboxes set up for a set of files, ready for the next query over exactly those.
#[derive(Default)]
struct IdleSandboxes {
    by_files: HashMap<Vec<DatasetFile>, Vec<Connection>>,
    count: usize,
}

impl IdleSandboxes {
    fn take(&mut self, files: &[DatasetFile]) -> Option<Connection> {
        let list = self.by_files.get_mut(files)?;
        let conn = list.pop();
        if list.is_empty() {
            self.by_files.remove(files);
        }
        if conn.is_some() {
            self.count -= 1;
        }
        conn
    }

    fn put(&mut self, files: Vec<DatasetFile>, conn: Connection) {
        if self.count >= IDLE_SANDBOXES {
            // Make room: sandboxes for other files (often an older version) go first.
            let victim = self
                .by_files
                .keys()
                .find(|k| **k != files)
                .or_else(|| self.by_files.keys().next())
                .cloned();
            if let Some(victim) = victim
                && let Some(list) = self.by_files.remove(&victim)
            {
                self.count -= list.len();
            }
        }
        self.by_files.entry(files).or_default().push(conn);
        self.count += 1;
    }
}

pub struct DuckDbEngine {
    limits: Limits,
    /// One per worker: a query waits here (within its timeout) rather than in a queue.
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Work>,
    /// Locked-down instances with no tables, for parsing: taken by one parse at a time.
    parsers: Arc<Parsers>,
    idle: Arc<Mutex<IdleSandboxes>>,
    macros: Vec<BuiltinMacro>,
}

impl DuckDbEngine {
    pub fn new(limits: Limits) -> Result<DuckDbEngine, EngineError> {
        let parsers = Parsers {
            limits,
            running: Arc::new(Semaphore::new(PARSERS)),
            idle: Mutex::new(Vec::new()),
        };
        let parser = parsers.take()?;
        let macros = builtin_macros(&parser).map_err(internal)?;
        parsers.put(parser);
        let workers = limits.concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Work>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..workers {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("da-query-{n}"))
                .spawn(move || worker(&queue))
                .map_err(|e| EngineError::Internal(format!("cannot start a query worker: {e}")))?;
        }
        Ok(DuckDbEngine {
            limits,
            permits: Arc::new(Semaphore::new(workers)),
            jobs,
            parsers: Arc::new(parsers),
            idle: Arc::new(Mutex::new(IdleSandboxes::default())),
            macros,
        })
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, EngineError> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))
    }

    /// Runs `work` on a query worker; the permit goes with it, so a query that timed out
    /// holds its place until DuckDB has stopped and abandoned work never piles up.
    fn on_worker<T: Send + 'static>(
        &self,
        permit: OwnedSemaphorePermit,
        work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<T, EngineError>>, EngineError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _permit = permit;
                let _ = answer.send(work());
            }))
            .map_err(|_| EngineError::Internal("the query workers stopped".into()))?;
        Ok(answered)
    }
}

fn worker(queue: &Mutex<mpsc::Receiver<Work>>) {
    lower_priority();
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        let Ok(work) = next else { return };
        // A panic in DuckDB's bindings must not take the worker with it.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).is_err() {
            tracing::error!("a query panicked");
        }
    }
}

/// Lowers this thread's CPU priority; DuckDB's threads started from it inherit it.
fn lower_priority() {
    #[cfg(unix)]
    if let Err(err) = rustix::process::setpriority_process(None, WORKER_NICENESS) {
        tracing::warn!(error = %err, "cannot lower the query workers' priority");
    }
}

/// Every macro the engine ships, with its definition.
fn builtin_macros(conn: &Connection) -> Result<Vec<BuiltinMacro>, duckdb::Error> {
    let mut statement = conn.prepare(
        "SELECT function_name, schema_name, coalesce(macro_definition, '') \
         FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro')",
    )?;
    statement
        .query_map([], |row| {
            Ok(BuiltinMacro {
                name: row.get(0)?,
                schema: row.get(1)?,
                definition: row.get(2)?,
            })
        })?
        .collect()
}

fn internal(e: duckdb::Error) -> EngineError {
    EngineError::Internal(e.to_string())
}

/// A string literal for DuckDB SQL.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A quoted identifier for DuckDB SQL.
fn identifier(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn reader(file: &DatasetFile) -> String {
    let path = literal(&file.path.to_string_lossy());
    match file.format {
        DatasetFormat::Parquet => format!("read_parquet({path})"),
        DatasetFormat::Csv => format!("read_csv({path}, auto_detect = true)"),
    }
}

/// A fresh in-memory instance that reaches `files` only, each as a view of its name.
fn sandbox(limits: &Limits, files: &[DatasetFile]) -> Result<Connection, EngineError> {
    let conn = instance(limits)?;
    lock_down(&conn, files)?;
    Ok(conn)
}

/// An in-memory instance within the limits, not locked down yet.
fn instance(limits: &Limits) -> Result<Connection, EngineError> {
    let config = Config::default()
        .threads(i64::from(limits.threads.max(1)))
        .and_then(|c| c.max_memory(&format!("{}MB", limits.memory_mb.max(16))))
        .and_then(|c| c.enable_autoload_extension(false))
        .and_then(|c| c.with("autoinstall_known_extensions", "false"))
        // No spilling to disk: an in-memory instance would write into the server's working
        // directory, as much as the disk holds. A query past its memory fails in words.
        .and_then(|c| c.with("temp_directory", ""))
        // Kept sandboxes must not keep file contents cached beyond their query.
        .and_then(|c| c.with("enable_external_file_cache", "false"))
        .map_err(internal)?;
    Connection::open_in_memory_with_flags(config).map_err(internal)
}

/// Makes `files` (and nothing else) reachable, each as a view of its name, then switches off
/// external access and locks the configuration.
fn lock_down(conn: &Connection, files: &[DatasetFile]) -> Result<(), EngineError> {
    let allowed = files
        .iter()
        .map(|f| literal(&f.path.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut setup = format!("SET allowed_paths = [{allowed}]; SET enable_external_access = false;");
    for file in files {
        setup.push_str(&format!(
            " CREATE VIEW {} AS SELECT * FROM {};",
            identifier(&file.name),
            reader(file)
        ));
    }
    setup.push_str(" SET lock_configuration = true;");
    conn.execute_batch(&setup).map_err(|e| scrubbed(e, files))
}

/// DuckDB's message with every file path replaced by its dataset's name.
fn scrub(message: &str, files: &[DatasetFile]) -> String {
    let mut message = message.to_owned();
    for file in files {
        message = message.replace(&*file.path.to_string_lossy(), &file.name);
        if let Some(dir) = file.path.parent() {
            message = message.replace(&*dir.to_string_lossy(), "<datasets>");
        }
    }
    message
}

fn scrubbed(e: duckdb::Error, files: &[DatasetFile]) -> EngineError {
    EngineError::Invalid(scrub(&e.to_string(), files))
}

/// Columns of a relation, with DuckDB's type names.
fn describe(conn: &Connection, relation: &str) -> Result<Vec<Column>, duckdb::Error> {
    let mut statement = conn.prepare(&format!("DESCRIBE {relation}"))?;
    let columns = statement
        .query_map([], |row| {
            Ok(Column {
                name: row.get(0)?,
                data_type: row.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(columns)
}

/// Rows per [`Chunk::Rows`].
const BATCH_ROWS: usize = 512;
/// Batches in flight between a worker and its reader.
const BATCHES_IN_FLIGHT: usize = 8;

/// Where a query's answer goes: its columns once, then its chunks.
struct Answer {
    columns: Option<oneshot::Sender<Result<Vec<Column>, EngineError>>>,
    chunks: tokio::sync::mpsc::Sender<Result<Chunk, EngineError>>,
    deadline: Instant,
}

/// Why a worker stopped sending.
enum Stopped {
    /// The reader went away (a client that hung up): nothing more to do.
    ReaderGone,
    Failed(EngineError),
}

impl Answer {
    /// Hands `chunk` to the reader, waiting while it is behind, but not past the deadline (a
    /// reader that stalls must not hold a worker for ever).
    fn send(&self, chunk: Chunk) -> Result<(), Stopped> {
        let mut item = Ok(chunk);
        loop {
            match self.chunks.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(_)) => return Err(Stopped::ReaderGone),
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= self.deadline {
                        return Err(Stopped::Failed(EngineError::TimedOut));
                    }
                    item = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }

    /// Tells the reader how it ended: before the columns as the answer to `stream`, after
    /// them as the stream's last item.
    fn fail(&mut self, err: EngineError) {
        match self.columns.take() {
            Some(columns) => {
                let _ = columns.send(Err(err));
            }
            None => {
                let _ = self.chunks.try_send(Err(err));
            }
        }
    }
}

/// A column as a JSON cell. JSON has no NaN or infinity: those floating-point values are
/// written as DuckDB's text for them (`"nan"`, `"inf"`, `"-inf"`). Exact numbers a JSON
/// reader would round (DECIMAL's digits, HUGEINT's 128 bits: most readers, this server's
/// included, hold a number as a 64-bit float) are written as their text: `"9950.00"`.
fn cell(column: &Column) -> String {
    let value = format!("_da_query.{}", identifier(&column.name));
    let data_type = column.data_type.as_str();
    match data_type {
        "FLOAT" | "DOUBLE" => format!(
            "CASE WHEN {value} IS NULL OR isfinite({value}) THEN to_json({value}) \
             ELSE to_json({value}::VARCHAR) END"
        ),
        "HUGEINT" | "UHUGEINT" => format!("{value}::VARCHAR"),
        _ if da_types::is_decimal_type(data_type) => format!("{value}::VARCHAR"),
        _ => value,
    }
}

/// `sql` (parsed as exactly one SELECT) as a subquery named `_da_query`. The line breaks keep
/// a trailing `--` comment from swallowing what follows.
fn subquery(sql: &str) -> String {
    // DuckDB's parser takes a SELECT followed by any run of `;` (and blanks) as one.
    let body = sql.trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    format!("(\n{body}\n) _da_query")
}

/// Answers `job` in `conn` (a sandbox for exactly `job.datasets`) into `out`, all but the
/// final `End`; `Ok(truncated)` when every row was sent.
fn answer(conn: &Connection, job: &QueryJob, out: &mut Answer) -> Result<bool, Stopped> {
    let fail = |e: duckdb::Error| Stopped::Failed(scrubbed(e, &job.datasets));
    // The SQL was parsed as exactly one SELECT, so as a subquery it is that SELECT and
    // nothing more. Two statements: the columns' names and types (bound, not run), then the
    // rows.
    let relation = subquery(&job.sql);
    let columns = describe(conn, &format!("SELECT * FROM {relation}")).map_err(fail)?;
    // DuckDB writes each row as a JSON array: numbers stay numbers, nested values nest.
    let cells = columns.iter().map(cell).collect::<Vec<_>>().join(", ");
    let mut statement = match columns.is_empty() {
        true => None,
        false => Some(
            conn.prepare(&format!(
                "SELECT json_array({cells})::VARCHAR FROM {relation} LIMIT {}",
                job.limit + 1
            ))
            .map_err(fail)?,
        ),
    };
    let mut rows = match statement.as_mut() {
        Some(statement) => Some(statement.query([]).map_err(fail)?),
        None => None,
    };
    // The first row read (or none): errors of execution come back as the answer to
    // `stream`, before any row is sent.
    let mut next = match rows.as_mut() {
        Some(rows) => rows.next().map_err(fail)?,
        None => None,
    };
    if let Some(columns_out) = out.columns.take()
        && columns_out.send(Ok(columns)).is_err()
    {
        return Err(Stopped::ReaderGone);
    }
    let (mut sent, mut batch) = (0u64, Vec::with_capacity(BATCH_ROWS));
    while let Some(row) = next {
        if sent == job.limit {
            if !batch.is_empty() {
                out.send(Chunk::Rows(std::mem::take(&mut batch)))?;
            }
            return Ok(true);
        }
        let text: String = row.get(0).map_err(fail)?;
        let values: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
            Stopped::Failed(EngineError::Internal(format!(
                "a row DuckDB wrote is not JSON: {e}"
            )))
        })?;
        batch.push(values);
        sent += 1;
        if batch.len() == BATCH_ROWS {
            out.send(Chunk::Rows(std::mem::replace(
                &mut batch,
                Vec::with_capacity(BATCH_ROWS),
            )))?;
        }
        next = match rows.as_mut() {
            Some(rows) => rows.next().map_err(fail)?,
            None => None,
        };
    }
    if !batch.is_empty() {
        out.send(Chunk::Rows(batch))?;
    }
    Ok(false)
}

/// How the timeout reaches a running query: the worker puts the handle of the query's
/// connection here and takes it back out when done, under the lock; the timeout interrupts
/// only through a handle it finds here, so it can never hit a later query on a kept sandbox.
#[derive(Default)]
struct Cancel {
    handle: Option<Arc<duckdb::InterruptHandle>>,
    interrupted: bool,
}

impl Cancel {
    /// Arms for `conn`; `false` when the query was cancelled before it started.
    fn arm(slot: &Mutex<Cancel>, conn: &Connection) -> bool {
        let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.handle = Some(conn.interrupt_handle());
        !slot.interrupted
    }

    /// Disarms; `true` when the query was interrupted.
    fn disarm(slot: &Mutex<Cancel>) -> bool {
        let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.handle = None;
        slot.interrupted
    }

    fn interrupt(slot: &Mutex<Cancel>) {
        let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(handle) = slot.handle.take() {
            handle.interrupt();
        }
        slot.interrupted = true;
    }
}

fn run_in_sandbox(
    limits: Limits,
    job: QueryJob,
    idle: &Mutex<IdleSandboxes>,
    cancel: &Mutex<Cancel>,
    mut out: Answer,
) {
    let mut files = job.datasets.clone();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let kept = idle
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take(&files);
    let conn = match kept {
        Some(conn) => {
            if !Cancel::arm(cancel, &conn) {
                Cancel::disarm(cancel);
                idle.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .put(files, conn);
                return out.fail(EngineError::TimedOut);
            }
            conn
        }
        None => {
            let conn = match instance(&limits) {
                Ok(conn) => conn,
                Err(err) => return out.fail(err),
            };
            // Interruptible from here on: reading a large file's schema counts against the
            // timeout.
            if !Cancel::arm(cancel, &conn) {
                return out.fail(EngineError::TimedOut);
            }
            if let Err(err) = lock_down(&conn, &job.datasets) {
                let interrupted = Cancel::disarm(cancel);
                return out.fail(if interrupted {
                    EngineError::TimedOut
                } else {
                    err
                });
            }
            conn
        }
    };
    let outcome = answer(&conn, &job, &mut out);
    let interrupted = Cancel::disarm(cancel);
    // Kept for the next query over the same files unless it was interrupted (then it goes:
    // a clean slate is cheaper than finding out what an interrupt left behind). Put back
    // before the reader hears the end, so the next query finds it.
    if !interrupted {
        idle.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .put(files, conn);
    }
    match outcome {
        Ok(truncated) => {
            let _ = out.send(Chunk::End { truncated });
        }
        Err(Stopped::ReaderGone) => {}
        // An interrupt shows as DuckDB's "INTERRUPT Error": it was the timeout.
        Err(Stopped::Failed(_)) if interrupted => out.fail(EngineError::TimedOut),
        Err(Stopped::Failed(err)) => out.fail(err),
    }
}

#[async_trait]
impl Engine for DuckDbEngine {
    fn builtin_macros(&self) -> Vec<BuiltinMacro> {
        self.macros.clone()
    }

    async fn parse(&self, sql: &str) -> Result<serde_json::Value, EngineError> {
        let (parsers, sql) = (self.parsers.clone(), sql.to_owned());
        let permit = parsers
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        // Parsing is cheap and never touches a file: the runtime's blocking threads do.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = parsers.take()?;
            let text: Result<String, _> =
                conn.query_row("SELECT json_serialize_sql(?)", [sql], |row| row.get(0));
            parsers.put(conn);
            let text = text.map_err(internal)?;
            // DuckDB nests a long expression deeply; past serde_json's depth limit the query
            // is refused in words rather than failing as the server's error.
            serde_json::from_str(&text).map_err(|e| match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                    if e.to_string().contains("recursion limit") =>
                {
                    EngineError::Invalid(da_types::detail::QUERY_TOO_DEEP.into())
                }
                _ => EngineError::Internal(e.to_string()),
            })
        })
        .await
        .map_err(|e| EngineError::Internal(format!("parse task failed: {e}")))?
    }

    async fn inspect(&self, file: &DatasetFile) -> Result<FileFacts, EngineError> {
        let (limits, file) = (self.limits, file.clone());
        let permit = self.permit().await?;
        let answered = self.on_worker(permit, move || {
            let files = std::slice::from_ref(&file);
            let conn = sandbox(&limits, files)?;
            let table = identifier(&file.name);
            let rows: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .map_err(|e| scrubbed(e, files))?;
            let columns = describe(&conn, &table).map_err(|e| scrubbed(e, files))?;
            Ok(FileFacts {
                rows: rows.max(0) as u64,
                columns,
            })
        })?;
        answered
            .await
            .map_err(|_| EngineError::Internal("an inspection was dropped".into()))?
    }

    async fn stream(&self, job: QueryJob) -> Result<RowStream, EngineError> {
        let limits = self.limits;
        let started = Instant::now();
        // Waiting for a worker counts against the timeout too: under a flood a query is
        // refused in time rather than queued for ever.
        let permit = tokio::time::timeout(limits.timeout, self.permit())
            .await
            .map_err(|_| EngineError::TimedOut)??;
        let deadline = started + limits.timeout;
        let cancel = Arc::new(Mutex::new(Cancel::default()));
        // The timeout interrupts DuckDB wherever the query is, reading rows included; the
        // timer goes when the query is over.
        let timer = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline.into()).await;
                Cancel::interrupt(&cancel);
            })
        };
        let (columns_in, columns_out) = oneshot::channel();
        let (chunks_in, chunks) = tokio::sync::mpsc::channel(BATCHES_IN_FLIGHT);
        let out = Answer {
            columns: Some(columns_in),
            chunks: chunks_in,
            deadline,
        };
        let idle = self.idle.clone();
        let stop_timer = timer.abort_handle();
        // Whoever drops the answer (a client that hung up, even before the first row) stops
        // the query.
        let stop = {
            let cancel = cancel.clone();
            StopOnDrop::new(move || Cancel::interrupt(&cancel))
        };
        self.on_worker(permit, move || {
            run_in_sandbox(limits, job, &idle, &cancel, out);
            stop_timer.abort();
            Ok(())
        })?;
        let columns = columns_out
            .await
            .map_err(|_| EngineError::Internal("a query was dropped".into()))??;
        Ok(RowStream {
            columns,
            chunks,
            stop,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use da_domain::engine::QueryOutput;

    impl DuckDbEngine {
        async fn query(&self, job: QueryJob) -> Result<QueryOutput, EngineError> {
            self.stream(job).await?.collect().await
        }
    }

    fn limits() -> Limits {
        Limits {
            concurrency: 2,
            timeout: Duration::from_secs(10),
            memory_mb: 256,
            threads: 1,
        }
    }

    fn write_parquet(dir: &std::path::Path, name: &str, sql: &str) -> DatasetFile {
        let path = dir.join(format!("{name}.parquet"));
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "COPY ({sql}) TO {} (FORMAT parquet)",
            literal(&path.to_string_lossy())
        ))
        .unwrap();
        DatasetFile {
            name: name.into(),
            path,
            format: DatasetFormat::Parquet,
            version: sql.into(),
        }
    }

    #[tokio::test]
    async fn a_query_sees_its_datasets_as_tables_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let sales = write_parquet(
            dir.path(),
            "sales",
            "SELECT range AS id, range % 3 AS k FROM range(10)",
        );
        let hidden = write_parquet(dir.path(), "hidden", "SELECT 42 AS secret");
        let engine = DuckDbEngine::new(limits()).unwrap();
        let answer = engine
            .query(QueryJob {
                sql: "SELECT k, count(*) AS n FROM sales GROUP BY k ORDER BY k".into(),
                datasets: vec![sales.clone()],
                limit: 2,
            })
            .await
            .unwrap();
        assert_eq!(
            answer
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.data_type.as_str()))
                .collect::<Vec<_>>(),
            [("k", "BIGINT"), ("n", "BIGINT")]
        );
        assert_eq!(
            answer.rows,
            vec![
                vec![serde_json::json!(0), serde_json::json!(4)],
                vec![serde_json::json!(1), serde_json::json!(3)]
            ]
        );
        assert!(answer.truncated);

        // The sandbox itself refuses every other file, whatever the SQL says.
        for sql in [
            format!(
                "SELECT * FROM read_parquet({})",
                literal(&hidden.path.to_string_lossy())
            ),
            "SELECT * FROM read_csv('/etc/passwd')".to_owned(),
            "SELECT * FROM hidden".to_owned(),
        ] {
            let refused = engine
                .query(QueryJob {
                    sql: sql.clone(),
                    datasets: vec![sales.clone()],
                    limit: 10,
                })
                .await
                .unwrap_err();
            let EngineError::Invalid(message) = refused else {
                panic!("{sql}: {refused:?}")
            };
            assert!(
                !message.contains(&*dir.path().to_string_lossy()),
                "{message}"
            );
        }
        let facts = engine.inspect(&sales).await.unwrap();
        assert_eq!(facts.rows, 10);
        assert_eq!(facts.columns.len(), 2);
    }

    #[tokio::test]
    async fn a_long_query_is_interrupted_at_the_timeout_and_frees_its_worker() {
        // One worker: the second query can only run once DuckDB has stopped the first, which
        // would otherwise count for hours.
        let engine = DuckDbEngine::new(Limits {
            concurrency: 1,
            timeout: Duration::from_millis(300),
            ..limits()
        })
        .unwrap();
        let outcome = engine
            .query(QueryJob {
                sql: "SELECT count(*) FROM range(100000000000) a".into(),
                datasets: vec![],
                limit: 1,
            })
            .await;
        assert_eq!(outcome, Err(EngineError::TimedOut));
        let mut answered = None;
        for _ in 0..50 {
            match engine
                .query(QueryJob {
                    sql: "SELECT 42 AS answer".into(),
                    datasets: vec![],
                    limit: 1,
                })
                .await
            {
                Err(EngineError::TimedOut) => continue,
                other => {
                    answered = Some(other);
                    break;
                }
            }
        }
        let output = answered.expect("the worker came free").unwrap();
        assert_eq!(output.rows, vec![vec![serde_json::json!(42)]]);
    }

    #[tokio::test]
    async fn a_kept_sandbox_serves_the_same_files_and_a_new_version_gets_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_parquet(dir.path(), "t", "SELECT 1 AS a");
        let engine = DuckDbEngine::new(limits()).unwrap();
        let ask = |file: &DatasetFile| QueryJob {
            sql: "SELECT * FROM t".into(),
            datasets: vec![file.clone()],
            limit: 10,
        };
        for _ in 0..3 {
            let output = engine.query(ask(&first)).await.unwrap();
            assert_eq!(output.columns[0].name, "a");
        }
        assert_eq!(engine.idle.lock().unwrap().count, 1, "one sandbox, reused");
        // The file replaced by one with another schema: the next query sees the new one.
        let second = write_parquet(dir.path(), "t", "SELECT 'x' AS b, 2 AS c");
        let output = engine.query(ask(&second)).await.unwrap();
        assert_eq!(
            output
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["b", "c"]
        );
        assert_eq!(
            output.rows,
            vec![vec![serde_json::json!("x"), serde_json::json!(2)]]
        );
        // A failed query leaves its sandbox usable.
        assert!(matches!(
            engine
                .query(QueryJob {
                    sql: "SELECT nope FROM t".into(),
                    ..ask(&second)
                })
                .await,
            Err(EngineError::Invalid(_))
        ));
        assert_eq!(engine.query(ask(&second)).await.unwrap().rows.len(), 1);
    }

    #[tokio::test]
    async fn rows_stream_in_batches_and_a_reader_that_leaves_frees_the_worker() {
        let engine = DuckDbEngine::new(Limits {
            concurrency: 1,
            ..limits()
        })
        .unwrap();
        let job = |limit| QueryJob {
            sql: "SELECT range AS n FROM range(2000)".into(),
            datasets: vec![],
            limit,
        };
        let mut stream = engine.stream(job(1500)).await.unwrap();
        let mut sizes = Vec::new();
        let end = loop {
            match stream.chunks.recv().await.unwrap().unwrap() {
                Chunk::Rows(rows) => sizes.push(rows.len()),
                end @ Chunk::End { .. } => break end,
            }
        };
        assert_eq!(sizes, [512, 512, 476]);
        assert_eq!(end, Chunk::End { truncated: true });
        // A reader that reads one batch of a long answer and goes away.
        let mut stream = engine.stream(job(100_000)).await.unwrap();
        assert!(matches!(
            stream.chunks.recv().await,
            Some(Ok(Chunk::Rows(_)))
        ));
        drop(stream);
        let output = engine.query(job(10)).await.unwrap();
        assert_eq!(output.rows.len(), 10);
    }

    #[tokio::test]
    async fn exact_numbers_keep_their_digits_and_floats_their_specials() {
        let engine = DuckDbEngine::new(limits()).unwrap();
        let output = engine
            .query(QueryJob {
                sql: "SELECT 9950.00::DECIMAL(38,2) AS price, 0.1::DECIMAL(4,3) AS small, \
                      170141183460469231731687303715884105727::HUGEINT AS huge, \
                      9007199254740993::BIGINT AS big, 'nan'::DOUBLE AS nan, \
                      1.5::DOUBLE AS x, NULL::DECIMAL(10,2) AS none, \
                      [1.50, 2.25]::DECIMAL(10,2)[] AS list; ; \n"
                    .into(),
                datasets: vec![],
                limit: 1,
            })
            .await
            .unwrap();
        assert_eq!(
            output.rows,
            vec![vec![
                serde_json::json!("9950.00"),
                serde_json::json!("0.100"),
                serde_json::json!("170141183460469231731687303715884105727"),
                serde_json::json!(9007199254740993_i64),
                serde_json::json!("nan"),
                serde_json::json!(1.5),
                serde_json::Value::Null,
                serde_json::json!([1.5, 2.25]),
            ]]
        );
        assert_eq!(output.columns[0].data_type, "DECIMAL(38,2)");
    }

    #[tokio::test]
    async fn a_file_that_is_not_parquet_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.parquet");
        std::fs::write(&path, b"not parquet at all").unwrap();
        let engine = DuckDbEngine::new(limits()).unwrap();
        let outcome = engine
            .inspect(&DatasetFile {
                name: "junk".into(),
                path,
                format: DatasetFormat::Parquet,
                version: "1".into(),
            })
            .await;
        let Err(EngineError::Invalid(message)) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            !message.contains(&*dir.path().to_string_lossy()),
            "{message}"
        );
    }
}
