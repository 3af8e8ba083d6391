//! Prometheus metrics: one process-wide recorder behind the `metrics` facade (so the jobs and
//! worker crates record into it too), HTTP request metrics, and the `/metrics` endpoint.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const HTTP_REQUESTS: &str = "http_requests_total";
const HTTP_DURATION: &str = "http_request_duration_seconds";
const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first call. Later calls (several routers
/// in one process, tests) get the same handle.
pub fn install_metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_DURATION.to_owned()),
                    HTTP_DURATION_BUCKETS,
                )
                .expect("bucket list is non-empty");
            // The worker's job histograms (recorded in this process under `coda up`).
            for (name, buckets) in coda_jobs::telemetry::HISTOGRAMS {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
                    .expect("bucket list is non-empty");
            }
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                // Someone else owns the facade; serve a valid, empty exposition rather than fail.
                tracing::warn!("another metrics recorder is installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

/// Counts every request by method, route template (never the raw path: ids would explode the
/// label set) and status, and records its latency to the response head.
pub(crate) async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Prometheus text exposition. Queue gauges are refreshed here, at scrape time, so they are
/// current even when no worker runs in this process.
pub(crate) async fn render_metrics(State(state): State<AppState>) -> Response {
    match state.coda.queue().await {
        Ok(queue) => {
            metrics::gauge!("coda_queue_pending").set(queue.pending as f64);
            metrics::gauge!("coda_queue_running").set(queue.running as f64);
            metrics::gauge!("coda_workers_alive").set(queue.workers_alive as f64);
            metrics::gauge!("coda_worker_slots").set(queue.concurrency as f64);
            metrics::gauge!("coda_expected_wait_seconds").set(queue.expected_wait_seconds.high);
            if let Some(ms) = queue.ms_per_step {
                // The moving average the estimates use (the histogram has each run's figure).
                metrics::gauge!("coda_ms_per_step_average").set(ms);
            }
            metrics::gauge!("coda_queue_reachable").set(1.0);
        }
        Err(error) => {
            tracing::warn!(%error, "queue gauges not refreshed");
            metrics::gauge!("coda_queue_reachable").set(0.0);
        }
    }
    state.metrics.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
