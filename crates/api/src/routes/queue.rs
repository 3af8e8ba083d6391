//! The state of the line as a whole.

use axum::extract::State;
use axum::Json;
use coda_jobs::QueueView;

use crate::error::ApiError;
use crate::state::AppState;

/// How many jobs wait and run, how many workers are alive, and how long a new job would wait.
#[utoipa::path(
    get, path = "/api/v1/queue", tag = "queue",
    responses(
        (status = 200, body = QueueView),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn queue_view(State(state): State<AppState>) -> Result<Json<QueueView>, ApiError> {
    Ok(Json(state.coda.queue().await?))
}
