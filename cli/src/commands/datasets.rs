//! `da datasets …`, `da query`, `da sync` and `da admin datasets …` (`API.md` §12).

use crate::commands::groups::resolve_group;
use crate::context::{Context, Session};
use crate::error::CliError;
use crate::output::{Table, date, print_json};
use da_types::{Dataset, DatasetFormat, ManifestEntry, QueryRequest, UpdateDatasetRequest};
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use da_types::human_size as size;

fn role_cell(dataset: &Dataset) -> String {
    dataset
        .min_role
        .map_or_else(|| "-".to_owned(), |r| r.to_string())
}

pub async fn list(ctx: &Context) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let datasets = session
        .client
        .list_datasets()
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&datasets);
    }
    let mut table = Table::new(&[
        "NAME",
        "FORMAT",
        "ROWS",
        "SIZE",
        "MIN ROLE",
        "UPDATED",
        "DESCRIPTION",
    ]);
    for d in &datasets {
        table.row(vec![
            d.name.clone(),
            d.format.as_str().to_owned(),
            d.rows.to_string(),
            size(d.size_bytes),
            role_cell(d),
            date(d.updated_at),
            d.description.clone(),
        ]);
    }
    table.print("No datasets you may read.");
    Ok(())
}

pub async fn show(ctx: &Context, name: &str) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let dataset = session
        .client
        .dataset(name)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&dataset);
    }
    outln!(
        "{} ({}, {} rows, {})",
        dataset.name,
        dataset.format.as_str(),
        dataset.rows,
        size(dataset.size_bytes)
    );
    if !dataset.description.is_empty() {
        outln!("{}", dataset.description);
    }
    outln!(
        "sha256 {}  updated {}",
        dataset.sha256,
        date(dataset.updated_at)
    );
    if let Some(groups) = &dataset.groups {
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        outln!(
            "readable by: admins{}{}",
            dataset
                .min_role
                .map(|r| format!(", {r} and above"))
                .unwrap_or_default(),
            if names.is_empty() {
                String::new()
            } else {
                format!(", groups {}", names.join(", "))
            }
        );
    }
    let mut table = Table::new(&["COLUMN", "TYPE"]);
    for column in &dataset.columns {
        table.row(vec![column.name.clone(), column.data_type.clone()]);
    }
    table.print("No columns.");
    Ok(())
}

/// How `da query` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
}

pub async fn query(
    ctx: &Context,
    sql: Option<String>,
    stdin: bool,
    format: QueryFormat,
    limit: Option<u64>,
) -> Result<(), CliError> {
    let sql = match (sql, stdin) {
        (Some(sql), false) => sql,
        (None, true) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| CliError::failure(format!("cannot read the query from stdin: {e}")))?;
            text
        }
        (Some(_), true) => return Err(CliError::usage("give the SQL or --stdin, not both")),
        (None, false) => return Err(CliError::usage("give the SQL, or --stdin to read it")),
    };
    let session = ctx.session().await?;
    let request = QueryRequest {
        sql,
        limit: limit.map(Into::into),
    };
    let format = if ctx.json { QueryFormat::Json } else { format };
    let result = session
        .client
        .query(&request)
        .await
        .map_err(|e| session.explain(e))?;
    match format {
        QueryFormat::Json => print_json(&result)?,
        // Written as the server writes `Accept: text/csv`, from the same code.
        QueryFormat::Csv => {
            let mut out = da_types::csv::header(&result.columns);
            for row in &result.rows {
                da_types::csv::push_row(&mut out, row);
            }
            crate::output::emit_data(&out);
        }
        QueryFormat::Table => {
            let headers: Vec<String> = result
                .columns
                .iter()
                .map(|c| format!("{} ({})", c.name, c.data_type))
                .collect();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let mut table = Table::new(&headers);
            for row in &result.rows {
                table.row(row.iter().map(da_types::cell_text).collect());
            }
            table.print("(no rows)");
            eprintln!(
                "{} row{} in {} ms",
                result.row_count,
                if result.row_count == 1 { "" } else { "s" },
                result.elapsed_ms
            );
        }
    }
    if result.truncated {
        eprintln!("(truncated at {} rows)", result.row_count);
    }
    Ok(())
}

/// `${XDG_DATA_HOME:-~/.local/share}/da/datasets`.
fn default_sync_dir() -> Result<PathBuf, CliError> {
    let non_empty = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
    if let Some(xdg) = non_empty("XDG_DATA_HOME") {
        return Ok(PathBuf::from(xdg).join("da").join("datasets"));
    }
    non_empty("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/da/datasets"))
        .ok_or_else(|| CliError::usage("cannot find a data directory: pass --dir or set HOME"))
}

fn file_name(entry: &ManifestEntry) -> String {
    format!("{}.{}", entry.name, entry.format.extension())
}

/// What `da sync` wrote into a directory, kept there as `.da-sync.json`: only these files are
/// ever removed (a directory may hold the user's own files too), and a file whose size and
/// modification time are as recorded is not hashed again.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct SyncState {
    files: std::collections::BTreeMap<String, SyncedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct SyncedFile {
    sha256: String,
    size_bytes: u64,
    modified_ns: u128,
}

const STATE_FILE: &str = ".da-sync.json";

impl SyncState {
    /// The state kept in `dir`; entries that are not a dataset's file name are dropped (the
    /// file may have been edited: it must never make `da sync` delete anything else).
    fn load(dir: &Path) -> SyncState {
        let mut state: SyncState = std::fs::read(dir.join(STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        state.files.retain(|file, _| is_dataset_file(file));
        state
    }

    fn save(&self, dir: &Path) -> Result<(), CliError> {
        let fail = |e: std::io::Error| {
            CliError::failure(format!(
                "cannot write {}: {e}",
                dir.join(STATE_FILE).display()
            ))
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        serde_json::to_writer_pretty(&mut temp, self)
            .map_err(|e| CliError::failure(format!("cannot write the sync state: {e}")))?;
        temp.persist(dir.join(STATE_FILE))
            .map_err(|e| fail(e.error))?;
        Ok(())
    }

    /// The sha256 of `file` in `dir`: as recorded when the file is unchanged since, else
    /// computed; `None` when there is no such file.
    fn sha256_of(&self, dir: &Path, file: &str) -> Option<String> {
        let path = dir.join(file);
        let now = facts_of(&path)?;
        match self.files.get(file) {
            Some(known) if (known.size_bytes, known.modified_ns) == now => {
                Some(known.sha256.clone())
            }
            _ => sha256_of(&path),
        }
    }

    fn record(&mut self, dir: &Path, file: String, sha256: String) {
        if let Some((size_bytes, modified_ns)) = facts_of(&dir.join(&file)) {
            self.files.insert(
                file,
                SyncedFile {
                    sha256,
                    size_bytes,
                    modified_ns,
                },
            );
        }
    }
}

/// `<name>.parquet` or `<name>.csv` with a valid dataset name: nothing with a path in it.
fn is_dataset_file(file: &str) -> bool {
    file.rsplit_once('.').is_some_and(|(name, extension)| {
        da_types::valid_dataset_name(name) && DatasetFormat::parse(extension).is_some()
    })
}

/// A file's size and modification time, to tell whether it changed.
fn facts_of(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((meta.len(), modified.as_nanos()))
}

/// The sha256 of a file on disk, or `None` when there is none.
fn sha256_of(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex_string(&hasher.finalize()))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Downloads one dataset to `<dir>/<name>.<ext>`: into a temp file beside it, checked against
/// the manifest's sha256, then renamed over the old one (a reader of the old file never sees
/// a half-written one).
async fn fetch(session: &Session, dir: &Path, entry: &ManifestEntry) -> Result<(), CliError> {
    let mut response = session
        .client
        .download(&entry.download_path)
        .await
        .map_err(|e| session.explain(e))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| CliError::failure(format!("cannot write in {}: {e}", dir.display())))?;
    let mut hasher = Sha256::new();
    let (mut done, total) = (0u64, entry.size_bytes);
    let progress = std::io::stderr().is_terminal() && total >= 8 * 1024 * 1024;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| CliError::failure(format!("the download of {} broke off: {e}", entry.name)))?
    {
        hasher.update(&chunk);
        temp.write_all(&chunk)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", entry.name)))?;
        done += chunk.len() as u64;
        if progress {
            let width = 30usize;
            let filled =
                ((done as f64 / total.max(1) as f64) * width as f64).min(width as f64) as usize;
            eprint!(
                "\r  {} [{}{}] {} / {}",
                entry.name,
                "#".repeat(filled),
                " ".repeat(width - filled),
                size(done),
                size(total)
            );
        }
    }
    if progress {
        eprintln!();
    }
    let got = hex_string(&hasher.finalize());
    if got != entry.sha256 {
        return Err(CliError::failure(format!(
            "{} arrived with sha256 {got}, not {} as the server said; kept the old copy",
            entry.name, entry.sha256
        )));
    }
    temp.as_file()
        .sync_all()
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", entry.name)))?;
    temp.persist(dir.join(file_name(entry)))
        .map_err(|e| CliError::failure(format!("cannot save {}: {e}", entry.name)))?;
    Ok(())
}

pub async fn sync(ctx: &Context, dir: Option<PathBuf>, names: Vec<String>) -> Result<(), CliError> {
    let dir = match dir {
        Some(dir) => dir,
        None => default_sync_dir()?,
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::failure(format!("cannot create {}: {e}", dir.display())))?;
    let session = ctx.session().await?;
    let manifest = session
        .client
        .sync_manifest()
        .await
        .map_err(|e| session.explain(e))?;
    // The server's names become file names here: one that is not a dataset name (a path, say)
    // is never written.
    let (datasets, odd): (Vec<ManifestEntry>, Vec<ManifestEntry>) =
        manifest.datasets.into_iter().partition(|d| {
            da_types::valid_dataset_name(&d.name) && d.download_path.starts_with("/api/datasets/")
        });
    for entry in &odd {
        eprintln!(
            "da: skipped {:?}: not a dataset name the server should send",
            crate::printable::printable(&entry.name)
        );
    }
    for name in &names {
        if !datasets.iter().any(|d| &d.name == name) {
            return Err(
                CliError::not_found(format!("no dataset {name:?} you may read"))
                    .with_hint("`da datasets list` shows them"),
            );
        }
    }
    let mut state = SyncState::load(&dir);
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
    let (mut fetched, mut current, mut removed, mut failed) =
        (Vec::new(), 0usize, Vec::new(), Vec::new());
    for entry in datasets.iter().filter(|d| wanted(&d.name)) {
        let file = file_name(entry);
        if state.sha256_of(&dir, &file).as_deref() == Some(entry.sha256.as_str()) {
            state.record(&dir, file, entry.sha256.clone());
            current += 1;
            continue;
        }
        // One failed download does not stop the others; the command fails at the end.
        match fetch(&session, &dir, entry).await {
            Ok(()) => {
                state.record(&dir, file, entry.sha256.clone());
                fetched.push(entry.name.clone());
            }
            Err(err) => {
                eprintln!("da: {}", crate::printable::printable(&err.message));
                failed.push(entry.name.clone());
            }
        }
    }
    // Files this command wrote for datasets no longer readable go (only when syncing
    // everything); nothing else in the directory is touched.
    if names.is_empty() {
        let keep: Vec<String> = datasets.iter().map(file_name).collect();
        let stale: Vec<String> = state
            .files
            .keys()
            .filter(|f| !keep.contains(f))
            .cloned()
            .collect();
        for file in stale {
            match std::fs::remove_file(dir.join(&file)) {
                Ok(()) => removed.push(file.clone()),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    eprintln!("da: cannot remove {file}: {err}");
                    continue;
                }
            }
            state.files.remove(&file);
        }
    }
    state.save(&dir)?;
    if ctx.json {
        print_json(&serde_json::json!({
            "dir": dir, "downloaded": fetched, "up_to_date": current, "removed": removed, "failed": failed,
        }))?;
    } else {
        for name in &fetched {
            outln!("downloaded {name}");
        }
        for file in &removed {
            outln!("removed {file} (no longer readable)");
        }
        outln!(
            "{} downloaded, {current} up to date, {} removed, in {}",
            fetched.len(),
            removed.len(),
            dir.display()
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "could not sync {}",
            failed.join(", ")
        )))
    }
}

pub async fn put(
    ctx: &Context,
    name: &str,
    file: &Path,
    description: Option<String>,
) -> Result<(), CliError> {
    let format = match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(ext) if ext == "parquet" => DatasetFormat::Parquet,
        Some(ext) if ext == "csv" => DatasetFormat::Csv,
        _ => return Err(CliError::usage("FILE must end in .parquet or .csv")),
    };
    // The server's own rule, checked before the upload: a refusal it sends while the file is
    // still streaming can be lost in the broken connection.
    if !da_types::valid_dataset_name(name) {
        return Err(CliError::failure(da_types::detail::DATASET_NAME_INVALID));
    }
    let opened = tokio::fs::File::open(file)
        .await
        .map_err(|e| CliError::failure(format!("cannot read {}: {e}", file.display())))?;
    let session = ctx.session().await?;
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(opened));
    let (dataset, created) = session
        .client
        .put_dataset(name, format, description.as_deref(), body)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&dataset);
    }
    outln!(
        "{} {} ({} rows, {})",
        if created { "Created" } else { "Replaced" },
        dataset.name,
        dataset.rows,
        size(dataset.size_bytes)
    );
    Ok(())
}

pub async fn set(
    ctx: &Context,
    name: &str,
    min_role: Option<String>,
    description: Option<String>,
) -> Result<(), CliError> {
    if min_role.is_none() && description.is_none() {
        return Err(CliError::usage("give --min-role or --description"));
    }
    let session = ctx.session().await?;
    let request = UpdateDatasetRequest {
        description,
        min_role: min_role.map(|r| Some(r).filter(|r| r != "none")),
    };
    let dataset = session
        .client
        .update_dataset(name, &request)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&dataset);
    }
    outln!(
        "Saved {} (minimum role {}).",
        dataset.name,
        role_cell(&dataset)
    );
    Ok(())
}

pub async fn grant(ctx: &Context, name: &str, group: &str, revoke: bool) -> Result<(), CliError> {
    let session = ctx.session().await?;
    let group = resolve_group(&session, group).await?;
    let outcome = if revoke {
        session.client.revoke_dataset(name, group.id).await
    } else {
        session.client.grant_dataset(name, group.id).await
    };
    outcome.map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(
            &serde_json::json!({ "dataset": name, "group": group.name, "granted": !revoke }),
        );
    }
    if revoke {
        outln!(
            "Members of {} no longer read {name} through it.",
            group.name
        );
    } else {
        outln!("Members of {} may read {name}.", group.name);
    }
    Ok(())
}

pub async fn delete(ctx: &Context, name: &str, yes: bool) -> Result<(), CliError> {
    let session = ctx.session().await?;
    if !yes {
        if !crate::prompt::stdin_is_terminal() {
            return Err(CliError::usage(format!(
                "refusing to delete the dataset {name} without confirmation: pass --yes"
            )));
        }
        if !crate::prompt::confirm(&format!("Delete the dataset {name} and its file?"))? {
            return Err(CliError::failure("not deleted"));
        }
    }
    session
        .client
        .delete_dataset(name)
        .await
        .map_err(|e| session.explain(e))?;
    if ctx.json {
        return print_json(&serde_json::json!({ "deleted": name }));
    }
    outln!("Deleted {name}.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dataset_file_names_are_synced_or_removed() {
        for ok in ["sales.parquet", "people.csv", "a_1.csv"] {
            assert!(is_dataset_file(ok), "{ok}");
        }
        for bad in [
            "../x.csv",
            "/etc/passwd",
            ".bashrc",
            "x.txt",
            "Sales.csv",
            "a/b.csv",
            "sales",
        ] {
            assert!(!is_dataset_file(bad), "{bad}");
        }
    }
}
