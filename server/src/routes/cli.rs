//! `API.md` §8: the `da` CLI handed out by this server, anonymously.

use crate::extract::Client;
use crate::http_error::HttpError;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use da_types::{CliRelease, ErrorCode, detail};
use tokio_util::io::ReaderStream;

pub async fn latest(State(state): State<AppState>) -> Result<Json<CliRelease>, HttpError> {
    Ok(Json(state.services.cli_release().await?))
}

pub async fn download(State(state): State<AppState>) -> Result<Response, HttpError> {
    let not_found = || HttpError::new(ErrorCode::NotFound, detail::CLI_NOT_FOUND);
    let path = state.services.cli_binary_path().ok_or_else(not_found)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| not_found())?;
    let meta = file.metadata().await.map_err(|_| not_found())?;
    if !meta.is_file() {
        return Err(not_found());
    }
    let len = meta.len();
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    da_domain::distribution::CLI_FILENAME
                ),
            ),
            (CONTENT_LENGTH, len.to_string()),
            (CACHE_CONTROL, "no-cache".to_owned()),
        ],
        Body::from_stream(ReaderStream::new(file)),
    )
        .into_response())
}

pub async fn install_script(
    State(state): State<AppState>,
    Client(client): Client,
) -> Result<Response, HttpError> {
    let script = state.services.install_script(&client)?;
    Ok((
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        script,
    )
        .into_response())
}
