//! Server-sent events for one job: its view is pushed whenever it changes, and the stream ends
//! after the job reaches a final state.
//!
//! The stream polls the facade (Redis) every `http.events_poll_interval_ms` rather than subscribing:
//! it is one cheap read per open page, and the worker may live in another process.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use coda_jobs::{Coda, JobId, JobView};
use futures::Stream;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::extract::JobIdPath;
use crate::routes::jobs::find_job;
use crate::state::AppState;

/// The name of every event carrying a job view.
pub const JOB_EVENT: &str = "job";

/// A stream of `job` events, each carrying the job's view as JSON.
///
/// The first event is the current state; later ones come only when something changed. The
/// stream closes after the event that shows `succeeded`, `failed` or `canceled`.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}/events", tag = "jobs",
    params(("id" = String, Path, description = "Job id (ULID)")),
    responses(
        (status = 200, description = "`event: job` messages whose data is a JobView", content_type = "text/event-stream", body = JobView),
        (status = 400, response = crate::openapi::InvalidId),
        (status = 404, response = crate::openapi::JobNotFound),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn job_events(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Unknown ids fail as a plain 404 before the stream starts.
    let first = find_job(&state, id).await?;
    let watch = Watch {
        coda: state.coda.clone(),
        id,
        interval: state.options.http.events_poll_interval(),
        shutdown: state.shutdown_signal(),
    };
    Ok(Sse::new(watch.stream(first)).keep_alive(KeepAlive::default()))
}

struct Watch {
    coda: Coda,
    id: JobId,
    interval: Duration,
    shutdown: watch::Receiver<bool>,
}

enum Step {
    Send(Box<JobView>),
    Poll { last: String },
    Done,
}

impl Watch {
    fn stream(self, first: JobView) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(
            (self, Step::Send(Box::new(first))),
            |(mut watch, step)| async move {
                let view = match step {
                    Step::Done => return None,
                    Step::Send(view) => *view,
                    Step::Poll { last } => watch.next_change(&last).await?,
                };
                let json = serde_json::to_string(&view).unwrap_or_default();
                let next = if view.status.is_final() {
                    Step::Done
                } else {
                    Step::Poll { last: json.clone() }
                };
                Some((
                    Ok(Event::default().event(JOB_EVENT).data(json)),
                    (watch, next),
                ))
            },
        )
    }

    /// Waits until the job's view differs from `last`. `None` ends the stream: the server is
    /// shutting down, or the job is gone (expired).
    async fn next_change(&mut self, last: &str) -> Option<JobView> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = self.shutdown.changed() => return None,
            }
            match self.coda.job(self.id).await {
                Ok(Some(view)) => {
                    if serde_json::to_string(&view).is_ok_and(|json| json != last) {
                        return Some(view);
                    }
                }
                Ok(None) => return None,
                // A blip in Redis should not end the page's stream; the next poll may succeed.
                Err(error) => tracing::warn!(job = %self.id, %error, "event stream poll failed"),
            }
        }
    }
}
