//! Downloading a finished job's WAV. Range requests work, so players can seek.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use coda_jobs::JobStatus;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::error::ApiError;
use crate::extract::JobIdPath;
use crate::routes::jobs::find_job;
use crate::state::AppState;

/// A WAV file (16-bit PCM).
// Exists only to name the response body in the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "only describes the response body")]
pub struct Wav(Vec<u8>);

/// The generated audio (16-bit PCM WAV).
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}/audio", tag = "jobs",
    params(
        ("id" = String, Path, description = "Job id (ULID)"),
        ("Range" = Option<String>, Header, description = "Byte range, e.g. `bytes=0-1023`"),
    ),
    responses(
        (status = 200, description = "The whole file", content_type = "audio/wav", body = Wav),
        (status = 206, description = "The requested byte range", content_type = "audio/wav", body = Wav),
        (status = 400, response = crate::openapi::InvalidId),
        (status = 404, response = crate::openapi::JobNotFound),
        (status = 409, response = crate::openapi::AudioConflict),
        (status = 410, response = crate::openapi::AudioExpired),
        (status = 416, description = "The range lies outside the file"),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn job_audio(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
    request: Request,
) -> Result<Response, ApiError> {
    let job = find_job(&state, id).await?;
    if job.status != JobStatus::Succeeded {
        return Err(ApiError::AudioNotReady {
            id: id.to_string(),
            status: job.status.to_string(),
        });
    }
    let path = state.coda.audio_path(id);
    if !tokio::fs::try_exists(&path)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::AudioExpired(id.to_string()));
    }
    let mut response = ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .into_response();
    let headers = response.headers_mut();
    // Guessing from the extension varies (audio/x-wav, audio/wave); say it one way.
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    let disposition = format!("inline; filename=\"coda-{id}.wav\"");
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::try_from(disposition).map_err(ApiError::internal)?,
    );
    Ok(response)
}
