//! Datasets, grants, queries and sync (`API.md` §12): who may read what, decided in memory
//! from the caller's effective role and groups against a catalog kept in step with every
//! write; uploads checked by the engine and swapped in atomically; queries checked against
//! DuckDB's own parse before the engine's sandbox runs them.

use crate::audit;
use crate::cache::Invalidation;
use crate::engine::{Chunk, DatasetFile, EngineError, QueryJob, RowStream};
use crate::error::Error;
use crate::policy::Admin;
use crate::principal::Principal;
use crate::query_check::{self, Refusal};
use crate::services::ClientInfo;
use crate::services::Services;
use crate::store::AuditRecord;
use crate::store::{DatasetChange, DatasetRecord, GrantOutcome};
use chrono::Utc;
use da_types::{
    Dataset, DatasetFormat, GroupRef, ManifestEntry, QUERY_LIMIT_DEFAULT, QUERY_LIMIT_MAX,
    QueryRequest, QueryResult, Role, SyncManifest, UpdateDatasetRequest, detail,
    valid_dataset_name,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

pub use crate::data::Data;

/// An upload written to a file under `.incoming/`, with what was counted on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedUpload {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub sha256: String,
}

/// What a caller may read with: their effective role (narrowed by a token) and groups.
struct Reader {
    role: Role,
    groups: Vec<Uuid>,
}

impl Reader {
    fn may_read(&self, dataset: &DatasetRecord) -> bool {
        self.role == Role::Admin
            || dataset.min_role.is_some_and(|min| self.role >= min)
            || dataset.groups.iter().any(|g| self.groups.contains(g))
    }

    /// The dataset `name` when this reader may read it; `None` alike when it does not exist.
    fn find<'a>(&self, catalog: &'a [DatasetRecord], name: &str) -> Option<&'a DatasetRecord> {
        catalog.iter().find(|d| d.name == name && self.may_read(d))
    }
}

fn not_found() -> Error {
    Error::NotFound(detail::DATASET_NOT_FOUND.into())
}

fn checked_name(name: &str) -> Result<&str, Error> {
    if valid_dataset_name(name) {
        Ok(name)
    } else {
        Err(Error::invalid(detail::DATASET_NAME_INVALID))
    }
}

/// The file a dataset's bytes live in.
fn file_of(dir: &Path, name: &str, format: DatasetFormat) -> PathBuf {
    dir.join(format!("{name}.{}", format.extension()))
}

impl Services {
    fn data(&self) -> Result<&Data, Error> {
        self.inner
            .data
            .as_ref()
            .ok_or_else(|| Error::Unavailable("datasets are not set up".into()))
    }

    async fn catalog(&self) -> Result<Arc<Vec<DatasetRecord>>, Error> {
        if let Some(loaded) = self
            .inner
            .catalog
            .datasets
            .read()
            .ok()
            .and_then(|c| c.clone())
        {
            return Ok(loaded);
        }
        self.reload_catalog().await
    }

    /// Reads the catalog afresh after a write (writes are rare; the catalog is small).
    async fn reload_catalog(&self) -> Result<Arc<Vec<DatasetRecord>>, Error> {
        let _one_at_a_time = self.inner.catalog.reloading.lock().await;
        let generation = self
            .inner
            .catalog
            .generation
            .load(std::sync::atomic::Ordering::SeqCst);
        let fresh = Arc::new(self.inner.store.datasets().await?);
        self.inner.catalog.keep(generation, &fresh);
        Ok(fresh)
    }

    /// After a write of datasets or grants: the other replicas hear of it, this one reads
    /// afresh.
    async fn catalog_changed(&self) -> Result<(), Error> {
        self.inner.catalog.forget();
        self.tell_replicas(&[Invalidation::Datasets]).await;
        self.reload_catalog().await?;
        Ok(())
    }

    async fn reader(&self, caller: &Principal) -> Result<Reader, Error> {
        let groups = self
            .cached_user(caller.user_id())
            .await?
            .map(|u| u.groups)
            .unwrap_or_default();
        Ok(Reader {
            role: caller.role(),
            groups,
        })
    }

    async fn view(&self, record: &DatasetRecord, admin: bool) -> Result<Dataset, Error> {
        let groups = if admin {
            let mut refs = Vec::with_capacity(record.groups.len());
            for id in &record.groups {
                if let Some(group) = self.cached_group(*id).await? {
                    refs.push(GroupRef {
                        id: *id,
                        name: group.name,
                    });
                }
            }
            Some(refs)
        } else {
            None
        };
        Ok(Dataset {
            name: record.name.clone(),
            description: record.description.clone(),
            format: record.format,
            size_bytes: record.size_bytes,
            rows: record.rows,
            columns: record.columns.clone(),
            sha256: record.sha256.clone(),
            updated_at: record.updated_at,
            min_role: record.min_role,
            groups,
        })
    }

    /// The readable dataset of this name, or the same 404 as for one that does not exist.
    async fn readable(&self, caller: &Principal, name: &str) -> Result<DatasetRecord, Error> {
        let reader = self.reader(caller).await?;
        reader
            .find(&self.catalog().await?, name)
            .cloned()
            .ok_or_else(not_found)
    }

    /// `GET /api/datasets`: what the caller may read, by name.
    pub async fn list_datasets(&self, caller: &Principal) -> Result<Vec<Dataset>, Error> {
        let reader = self.reader(caller).await?;
        let admin = reader.role == Role::Admin;
        let mut out = Vec::new();
        for record in self.catalog().await?.iter().filter(|d| reader.may_read(d)) {
            out.push(self.view(record, admin).await?);
        }
        Ok(out)
    }

    /// `GET /api/datasets/{name}`.
    pub async fn get_dataset(&self, caller: &Principal, name: &str) -> Result<Dataset, Error> {
        let record = self.readable(caller, name).await?;
        self.view(&record, caller.role() == Role::Admin).await
    }

    /// `GET /api/datasets/{name}/download`: the record (for the ETag) and the file to send.
    pub async fn dataset_file(
        &self,
        caller: &Principal,
        name: &str,
    ) -> Result<(DatasetRecord, PathBuf), Error> {
        let record = self.readable(caller, name).await?;
        let path = file_of(&self.data()?.dir, &record.name, record.format);
        Ok((record, path))
    }

    /// `GET /api/sync/manifest`.
    pub async fn sync_manifest(&self, caller: &Principal) -> Result<SyncManifest, Error> {
        let reader = self.reader(caller).await?;
        let datasets = self
            .catalog()
            .await?
            .iter()
            .filter(|d| reader.may_read(d))
            .map(|d| ManifestEntry {
                name: d.name.clone(),
                format: d.format,
                sha256: d.sha256.clone(),
                size_bytes: d.size_bytes,
                updated_at: d.updated_at,
                download_path: format!("/api/datasets/{}/download", d.name),
            })
            .collect();
        Ok(SyncManifest { datasets })
    }

    /// Where an upload is written while it arrives (the caller removes it on failure).
    pub fn staging_path(&self, _admin: &Admin) -> Result<PathBuf, Error> {
        let incoming = self.data()?.dir.join(".incoming");
        std::fs::create_dir_all(&incoming).map_err(Error::internal)?;
        Ok(incoming.join(format!("{}.part", Uuid::new_v4())))
    }

    /// `PUT /api/datasets/{name}`: checks the staged file with the engine, reads its schema
    /// and rows, swaps it in atomically (a reader sees the old file or the new, never a mix)
    /// and records it. `true` when the dataset is new.
    pub async fn put_dataset(
        &self,
        admin: &Admin,
        name: &str,
        format: DatasetFormat,
        description: Option<&str>,
        staged: &StagedUpload,
        client: &ClientInfo,
    ) -> Result<(Dataset, bool), Error> {
        let name = checked_name(name)?;
        let description = description.map(crate::params::description).transpose()?;
        let data = self.data()?;
        let facts = data
            .engine
            .inspect(&DatasetFile {
                name: name.to_owned(),
                path: staged.path.clone(),
                format,
                version: staged.sha256.clone(),
            })
            .await
            .map_err(|e| match e {
                EngineError::Invalid(cause) => {
                    tracing::info!(dataset = name, %cause, "an upload is not a valid file");
                    Error::invalid(match format {
                        DatasetFormat::Parquet => detail::DATASET_NOT_PARQUET,
                        DatasetFormat::Csv => detail::DATASET_NOT_CSV,
                    })
                }
                other => Error::internal(other),
            })?;
        let now = Utc::now();
        let record = DatasetRecord {
            name: name.to_owned(),
            description: String::new(),
            format,
            size_bytes: staged.size_bytes,
            rows: facts.rows,
            columns: facts.columns,
            sha256: staged.sha256.clone(),
            min_role: None,
            created_at: now,
            updated_at: now,
            groups: Vec::new(),
        };
        let target = file_of(&data.dir, name, format);
        let _one_upload_at_a_time = self.inner.catalog.uploading.lock().await;
        let previous = self.inner.store.dataset(name).await?;
        tokio::fs::rename(&staged.path, &target)
            .await
            .map_err(Error::internal)?;
        let row = audit::record(audit::DATASET_PUT, format!("dataset:{name}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "name": name,
                "format": format.as_str(),
                "size_bytes": record.size_bytes,
                "rows": record.rows,
                "sha256": record.sha256,
            }));
        let (written, created) = self
            .inner
            .store
            .put_dataset(&record, description.as_deref(), &row)
            .await?;
        // A CSV replaced by a Parquet file (or the reverse) leaves the old file behind.
        if let Some(previous) = previous
            && previous.format != format
        {
            let stale = file_of(&data.dir, name, previous.format);
            if let Err(err) = tokio::fs::remove_file(&stale).await {
                tracing::warn!(error = %err, dataset = name, "could not remove the replaced file");
            }
        }
        self.catalog_changed().await?;
        Ok((self.view(&written, true).await?, created))
    }

    /// `PATCH /api/datasets/{name}`.
    pub async fn update_dataset(
        &self,
        admin: &Admin,
        name: &str,
        request: &UpdateDatasetRequest,
        client: &ClientInfo,
    ) -> Result<Dataset, Error> {
        let change = DatasetChange {
            description: request
                .description
                .as_deref()
                .map(crate::params::description)
                .transpose()?,
            min_role: request
                .min_role
                .as_ref()
                .map(|role| role.as_deref().map(crate::params::parse_role).transpose())
                .transpose()?,
        };
        let row = audit::record(audit::DATASET_UPDATE, format!("dataset:{name}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "name": name,
                "description": change.description,
                "min_role": change.min_role.map(|r| r.map(Role::as_str)),
            }));
        let written = self
            .inner
            .store
            .update_dataset(name, &change, Utc::now(), &row)
            .await?
            .ok_or_else(not_found)?;
        self.catalog_changed().await?;
        self.view(&written, true).await
    }

    /// `DELETE /api/datasets/{name}`.
    pub async fn delete_dataset(
        &self,
        admin: &Admin,
        name: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let record = self
            .inner
            .store
            .dataset(name)
            .await?
            .ok_or_else(not_found)?;
        let row = audit::record(audit::DATASET_DELETE, format!("dataset:{name}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({ "name": name }));
        if !self.inner.store.delete_dataset(name, &row).await? {
            return Err(not_found());
        }
        self.catalog_changed().await?;
        let file = file_of(&self.data()?.dir, name, record.format);
        if let Err(err) = tokio::fs::remove_file(&file).await {
            tracing::warn!(error = %err, dataset = name, "could not remove a deleted dataset's file");
        }
        Ok(())
    }

    /// `PUT /api/datasets/{name}/grants/{group_id}`: idempotent.
    pub async fn grant_dataset(
        &self,
        admin: &Admin,
        name: &str,
        group_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let group = self.cached_group(group_id).await?;
        let row = self.grant_row(audit::DATASET_GRANT, admin, name, group_id, group, client);
        match self
            .inner
            .store
            .grant_dataset(name, group_id, Utc::now(), &row)
            .await?
        {
            GrantOutcome::Granted => {
                self.catalog_changed().await?;
                Ok(())
            }
            GrantOutcome::AlreadyGranted => Ok(()),
            GrantOutcome::DatasetNotFound => Err(not_found()),
            GrantOutcome::GroupNotFound => Err(Error::NotFound(detail::GROUP_NOT_FOUND.into())),
        }
    }

    /// `DELETE /api/datasets/{name}/grants/{group_id}`.
    pub async fn revoke_dataset(
        &self,
        admin: &Admin,
        name: &str,
        group_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let group = self.cached_group(group_id).await?;
        let row = self.grant_row(audit::DATASET_REVOKE, admin, name, group_id, group, client);
        if !self
            .inner
            .store
            .revoke_dataset(name, group_id, &row)
            .await?
        {
            return Err(Error::NotFound(detail::GRANT_NOT_FOUND.into()));
        }
        self.catalog_changed().await?;
        Ok(())
    }

    fn grant_row(
        &self,
        action: &str,
        admin: &Admin,
        name: &str,
        group_id: Uuid,
        group: Option<crate::cache::CachedGroup>,
        client: &ClientInfo,
    ) -> AuditRecord {
        audit::record(action, format!("dataset:{name}"))
            .by_principal(admin.principal())
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "name": name,
                "group_id": group_id,
                "group": group.map(|g| g.name),
            }))
    }

    /// A deleted group's grants went with it (in the store): the catalog follows.
    pub(crate) async fn forget_grants_of_deleted_group(&self) -> Result<(), Error> {
        if self.inner.data.is_some() {
            self.catalog_changed().await?;
        }
        Ok(())
    }

    /// `POST /api/query`: one SELECT over the caller's readable datasets, nothing else;
    /// the whole answer (at most `limit` rows).
    pub async fn run_query(
        &self,
        caller: &Principal,
        request: &QueryRequest,
        client: &ClientInfo,
    ) -> Result<QueryResult, Error> {
        let started = Instant::now();
        let (names, stream) = self.start_query(caller, request).await?;
        let output = stream.collect().await.map_err(|e| self.query_error(e))?;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let row_count = output.rows.len() as u64;
        self.audit_query(caller, client, &names, row_count, elapsed_ms)
            .await;
        Ok(QueryResult {
            columns: output.columns,
            rows: output.rows,
            row_count,
            truncated: output.truncated,
            elapsed_ms,
        })
    }

    /// `POST /api/query` for a large answer (CSV): the columns now, the rows as DuckDB reads
    /// them, never all in memory. A stream that broke off ends with an `Err`. Audited when it
    /// ends.
    pub async fn stream_query(
        &self,
        caller: &Principal,
        request: &QueryRequest,
        client: &ClientInfo,
    ) -> Result<QueryRows, Error> {
        let started = Instant::now();
        let (names, mut stream) = self.start_query(caller, request).await?;
        let (rows_in, rows) = tokio::sync::mpsc::channel(2);
        let (services, caller, client) = (self.clone(), caller.clone(), client.clone());
        tokio::spawn(async move {
            let mut row_count = 0u64;
            loop {
                // The end of the chunks before `End` is a break-off too: never a clean end.
                let failure = match stream.chunks.recv().await {
                    Some(Ok(Chunk::Rows(batch))) => {
                        row_count += batch.len() as u64;
                        if rows_in.send(Ok(batch)).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Some(Ok(Chunk::End { .. })) => {
                        stream.stop.disarm();
                        break;
                    }
                    Some(Err(err)) => err,
                    None => EngineError::BrokeOff,
                };
                let _ = rows_in.send(Err(services.query_error(failure))).await;
                break;
            }
            let elapsed_ms = started.elapsed().as_millis() as u64;
            services
                .audit_query(&caller, &client, &names, row_count, elapsed_ms)
                .await;
        });
        Ok(QueryRows {
            columns: stream.columns,
            rows,
        })
    }

    /// Parses and checks `request` and starts it on the engine: the datasets it reads, and
    /// its answer's stream.
    async fn start_query(
        &self,
        caller: &Principal,
        request: &QueryRequest,
    ) -> Result<(std::collections::BTreeSet<String>, RowStream), Error> {
        let data = self.data()?;
        let limit = query_limit(request.limit.as_ref())?;
        let reader = self.reader(caller).await?;
        let catalog = self.catalog().await?;
        let parsed = data
            .engine
            .parse(&request.sql)
            .await
            .map_err(Error::internal)?;
        let readable = |name: &str| reader.find(&catalog, name).is_some();
        let refused = &data.refused_functions;
        let names = query_check::datasets_of(&parsed, &readable, refused).map_err(|refusal| {
            Error::Invalid(match refusal {
                Refusal::Syntax(message) => message,
                other => other.detail(),
            })
        })?;
        let datasets: Vec<DatasetFile> = catalog
            .iter()
            .filter(|d| names.contains(&d.name))
            .map(|d| DatasetFile {
                name: d.name.clone(),
                path: file_of(&data.dir, &d.name, d.format),
                format: d.format,
                version: d.sha256.clone(),
            })
            .collect();
        let stream = data
            .engine
            .stream(QueryJob {
                sql: request.sql.clone(),
                datasets,
                limit,
            })
            .await
            .map_err(|e| self.query_error(e))?;
        Ok((names, stream))
    }

    fn query_error(&self, err: EngineError) -> Error {
        match err {
            EngineError::Invalid(message) => Error::Invalid(message),
            EngineError::TimedOut => Error::Invalid(format!(
                "Query timed out after {} s",
                self.inner
                    .data
                    .as_ref()
                    .map_or(0, |d| d.query_timeout_seconds)
            )),
            EngineError::BrokeOff => Error::Invalid(detail::QUERY_BROKE_OFF.into()),
            EngineError::Internal(cause) => Error::Internal(cause),
        }
    }

    async fn audit_query(
        &self,
        caller: &Principal,
        client: &ClientInfo,
        names: &std::collections::BTreeSet<String>,
        rows: u64,
        elapsed_ms: u64,
    ) {
        let row = audit::record(audit::QUERY_RUN, "query")
            .by_principal(caller)
            .from_ip(client.ip.as_deref())
            .with_params(serde_json::json!({
                "datasets": names,
                "rows": rows,
                "elapsed_ms": elapsed_ms,
            }));
        if let Err(err) = self.inner.store.insert_audit(&row).await {
            tracing::warn!(error = %err, "could not audit a query");
        }
    }
}

/// A query's answer as it streams (`stream_query`).
pub struct QueryRows {
    pub columns: Vec<da_types::Column>,
    /// Batches of rows; an `Err` (the last item) when the query broke off.
    pub rows: tokio::sync::mpsc::Receiver<Result<Vec<Vec<serde_json::Value>>, Error>>,
}

/// `limit` of `POST /api/query`: 1..=100000, default 1000; anything else gets the sentence.
fn query_limit(raw: Option<&serde_json::Value>) -> Result<u64, Error> {
    let refused = || Error::invalid(format!("limit must be between 1 and {QUERY_LIMIT_MAX}"));
    match raw {
        None | Some(serde_json::Value::Null) => Ok(QUERY_LIMIT_DEFAULT),
        Some(value) => value
            .as_u64()
            .filter(|n| (1..=QUERY_LIMIT_MAX).contains(n))
            .ok_or_else(refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(min_role: Option<Role>, groups: Vec<Uuid>) -> DatasetRecord {
        DatasetRecord {
            name: "sales".into(),
            description: String::new(),
            format: DatasetFormat::Parquet,
            size_bytes: 1,
            rows: 1,
            columns: Vec::new(),
            sha256: String::new(),
            min_role,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            groups,
        }
    }

    #[test]
    fn admins_roles_at_the_minimum_and_granted_groups_read() {
        let finance = Uuid::new_v4();
        let reader = |role, groups: Vec<Uuid>| Reader { role, groups };
        let granted = record(None, vec![finance]);
        assert!(reader(Role::Admin, vec![]).may_read(&granted));
        assert!(reader(Role::Viewer, vec![finance]).may_read(&granted));
        assert!(!reader(Role::KmAdmin, vec![Uuid::new_v4()]).may_read(&granted));
        let for_analysts = record(Some(Role::Analyst), vec![]);
        assert!(reader(Role::Analyst, vec![]).may_read(&for_analysts));
        assert!(reader(Role::KmAdmin, vec![]).may_read(&for_analysts));
        assert!(!reader(Role::Viewer, vec![]).may_read(&for_analysts));
    }

    #[test]
    fn query_limits_are_bounded() {
        assert_eq!(query_limit(None).unwrap(), QUERY_LIMIT_DEFAULT);
        assert_eq!(query_limit(Some(&5.into())).unwrap(), 5);
        for bad in [
            0.into(),
            100_001.into(),
            (-1).into(),
            "10".into(),
            1.5.into(),
        ] {
            assert!(query_limit(Some(&bad)).is_err(), "{bad}");
        }
    }
}
