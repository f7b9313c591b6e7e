//! `/api/datasets…`, `/api/sync/manifest` and `/api/query` (`API.md` §12). Uploads are
//! streamed to a file under the datasets directory (hashed and counted on the way, never held
//! in memory) before the service checks and swaps them in; downloads stream the file.

use crate::extract::{AdminCaller, ApiJson, Authenticated, Client};
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use da_domain::datasets::StagedUpload;
use da_domain::error::detail;
use da_domain::params::parse_id;
use da_types::{
    Dataset, DatasetFormat, ErrorCode, QueryRequest, SyncManifest, UpdateDatasetRequest,
};
use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

fn group_id(raw: &str) -> Result<Uuid, HttpError> {
    Ok(parse_id(raw, detail::GROUP_NOT_FOUND)?)
}

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<Dataset>>, HttpError> {
    Ok(Json(state.services.list_datasets(&caller).await?))
}

pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<Dataset>, HttpError> {
    Ok(Json(state.services.get_dataset(&caller, &name).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct PutParams {
    #[serde(default)]
    description: Option<String>,
}

/// Removes a staged upload unless it was handed over.
struct Staged(Option<std::path::PathBuf>);

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub async fn put(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(name): Path<String>,
    Query(params): Query<PutParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    if !da_types::valid_dataset_name(&name) {
        return Err(da_domain::Error::invalid(detail::DATASET_NAME_INVALID).into());
    }
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(DatasetFormat::from_content_type)
        .ok_or_else(|| {
            HttpError::new(
                ErrorCode::UnsupportedMediaType,
                "Content-Type must be application/vnd.apache.parquet or text/csv",
            )
        })?;
    let max = state.config.data.dataset_max_bytes;
    let too_large = || {
        HttpError::new(
            ErrorCode::PayloadTooLarge,
            format!("A dataset may be at most {} MiB", max / (1024 * 1024)),
        )
    };
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > max
    {
        return Err(too_large());
    }
    let path = state.services.staging_path(&admin)?;
    let mut staged = Staged(Some(path.clone()));
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(da_domain::Error::internal)?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            HttpError::new(ErrorCode::Invalid, format!("The upload broke off: {e}"))
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large());
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(da_domain::Error::internal)?;
    }
    file.sync_all().await.map_err(da_domain::Error::internal)?;
    drop(file);
    let upload = StagedUpload {
        path,
        size_bytes: size,
        sha256: hex::encode(hasher.finalize()),
    };
    let outcome = state
        .services
        .put_dataset(
            &admin,
            &name,
            format,
            params.description.as_deref(),
            &upload,
            &client,
        )
        .await;
    let (dataset, created) = outcome?;
    staged.0 = None; // moved into place
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(dataset)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<UpdateDatasetRequest>,
) -> Result<Json<Dataset>, HttpError> {
    Ok(Json(
        state
            .services
            .update_dataset(&admin, &name, &request, &client)
            .await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path(name): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .services
        .delete_dataset(&admin, &name, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn grant(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path((name, group)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    state
        .services
        .grant_dataset(&admin, &name, group_id(&group)?, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn revoke(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    Path((name, group)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let group = parse_id(&group, detail::GRANT_NOT_FOUND)?;
    state
        .services
        .revoke_dataset(&admin, &name, group, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn download(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let (record, path) = state.services.dataset_file(&caller, &name).await?;
    let etag = format!("\"{}\"", record.sha256);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let etag_value = HeaderValue::from_str(&etag).map_err(da_domain::Error::internal)?;
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    // Deleted between the lookup and here: gone, as for anyone.
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                da_domain::Error::NotFound(da_types::detail::DATASET_NOT_FOUND.into())
            }
            _ => da_domain::Error::internal(e),
        })?;
    let length = file
        .metadata()
        .await
        .map_err(da_domain::Error::internal)?
        .len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let disposition = format!(
        "attachment; filename=\"{}.{}\"",
        record.name,
        record.format.extension()
    );
    Ok((
        [
            (header::ETAG, etag_value),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(record.format.content_type()),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(length)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(da_domain::Error::internal)?,
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn manifest(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<SyncManifest>, HttpError> {
    Ok(Json(state.services.sync_manifest(&caller).await?))
}

pub async fn query(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(request): ApiJson<QueryRequest>,
) -> Result<Response, HttpError> {
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")));
    if !wants_csv {
        return Ok(
            Json(state.services.run_query(&caller, &request, &client).await?).into_response(),
        );
    }
    // CSV is for large answers: written batch by batch as DuckDB reads them. A query that
    // breaks off midway aborts the body, so a client never takes a cut-off file for a whole one.
    let answer = state
        .services
        .stream_query(&caller, &request, &client)
        .await?;
    let head = Bytes::from(da_types::csv::header(&answer.columns));
    let rows = futures_util::stream::unfold(answer.rows, |mut rows| async move {
        let item = match rows.recv().await? {
            Ok(batch) => {
                let mut out = String::new();
                for row in &batch {
                    da_types::csv::push_row(&mut out, row);
                }
                Ok(Bytes::from(out))
            }
            Err(err) => {
                tracing::info!(error = %err, "a CSV query broke off");
                Err(std::io::Error::other(err.to_string()))
            }
        };
        Some((item, rows))
    });
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rows);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from_stream(body),
    )
        .into_response())
}
