//! Submitting, reading, cancelling and listing jobs.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use coda_jobs::{CancelError, GenerationRequest, JobId, JobView, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::ClientId;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, JobIdPath};
use crate::state::AppState;

/// The answer to a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedBody {
    pub job: JobView,
    /// Send back as `X-Cancel-Token` (or `?token=`) to cancel the job. Shown only once.
    pub cancel_token: String,
}

pub(crate) fn job_path(id: JobId) -> String {
    format!("/api/v1/jobs/{id}")
}

/// Queue a generation job.
///
/// The job waits in line; poll its `Location` or follow its event stream. Answers `202` with the
/// job's place in line and an expected wait.
#[utoipa::path(
    post, path = "/api/v1/jobs", tag = "jobs",
    request_body = GenerationRequest,
    responses(
        (status = 202, description = "Queued", body = SubmittedBody,
            headers(("Location" = String, description = "URL of the job"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 429, response = crate::openapi::TooManyPending),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::QueueFullOrUnavailable),
    ),
)]
pub async fn submit_job(
    State(state): State<AppState>,
    client: ClientId,
    ApiJson(request): ApiJson<GenerationRequest>,
) -> Result<Response, ApiError> {
    let params = request.validate(&state.coda.settings().limits)?;
    let submitted = state.coda.submit(params, &client.0).await?;
    let location = job_path(submitted.view.id);
    tracing::info!(job = %submitted.view.id, position = ?submitted.view.position, "job queued");
    let body = SubmittedBody {
        job: submitted.view,
        cancel_token: submitted.cancel_token,
    };
    let location = HeaderValue::try_from(location).map_err(ApiError::internal)?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// A job's state: place in line and ETA while queued, progress while running, outcome after.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id (ULID)")),
    responses(
        (status = 200, body = JobView),
        (status = 400, response = crate::openapi::InvalidId),
        (status = 404, response = crate::openapi::JobNotFound),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn get_job(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Json<JobView>, ApiError> {
    find_job(&state, id).await.map(Json)
}

pub(crate) async fn find_job(state: &AppState, id: JobId) -> Result<JobView, ApiError> {
    state
        .coda
        .job(id)
        .await?
        .ok_or_else(|| ApiError::JobNotFound(id.to_string()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CancelQuery {
    /// The cancel token, for clients that cannot set headers (`X-Cancel-Token` is preferred:
    /// query strings end up in logs more often).
    pub token: Option<String>,
}

const CANCEL_TOKEN_HEADER: &str = "x-cancel-token";

/// Cancel a queued or running job. Needs the token handed out at submission.
#[utoipa::path(
    delete, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(
        ("id" = String, Path, description = "Job id (ULID)"),
        ("X-Cancel-Token" = Option<String>, Header, description = "The cancel token from the submission"),
        CancelQuery,
    ),
    responses(
        (status = 200, description = "Canceled; the job's new state", body = JobView),
        (status = 400, response = crate::openapi::InvalidId),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::JobNotFound),
        (status = 409, response = crate::openapi::CancelConflict),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<CancelQuery>,
) -> Result<Json<JobView>, ApiError> {
    let header_token = headers
        .get(CANCEL_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A missing token is just a wrong one: the facade still says 404 for an unknown job first.
    let token = header_token.or(query.token).unwrap_or_default();
    match state.coda.cancel(id, &token).await {
        Ok(view) => {
            tracing::info!(job = %id, "job canceled");
            Ok(Json(view))
        }
        Err(CancelError::NotFound) => Err(ApiError::JobNotFound(id.to_string())),
        Err(CancelError::Forbidden) => Err(ApiError::Forbidden),
        Err(CancelError::AlreadyFinished { status }) => Err(ApiError::AlreadyFinished {
            id: id.to_string(),
            status: status.to_string(),
        }),
        Err(CancelError::Backend(error)) => Err(error.into()),
    }
}

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// `next_cursor` of the previous page; absent for the newest jobs.
    pub cursor: Option<String>,
    /// Jobs per page, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Past and present jobs, newest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/jobs", tag = "jobs",
    params(HistoryQuery),
    responses(
        (status = 200, body = Page),
        (status = 400, response = crate::openapi::BadQuery),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<Page>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidQuery {
            field: Some("limit".into()),
            message: format!("limit must be between 1 and {MAX_PAGE}, got {limit}"),
        });
    }
    let page = state.coda.history(query.cursor.as_deref(), limit).await?;
    Ok(Json(page))
}
