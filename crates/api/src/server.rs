//! Assembling the router and running it.

use std::future::Future;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, Request};
use axum::routing::{any, get};
use axum::{middleware, Router};
use coda_jobs::Coda;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::require_api_key;
use crate::error::ApiError;
use crate::extract::BODY_LIMIT_BYTES;
use crate::metrics::{install_metrics_recorder, render_metrics, track_http};
use crate::openapi::{ApiDoc, ApiKeySecurity};
use crate::routes::{audio, events, health, jobs, queue, web};
use crate::state::{ApiOptions, AppState};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("http server: {0}")]
    Serve(#[from] std::io::Error),
}

/// The documented `/api/v1` routes.
fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jobs::submit_job, jobs::list_jobs))
        .routes(routes!(jobs::get_job, jobs::cancel_job))
        .routes(routes!(audio::job_audio))
        .routes(routes!(events::job_events))
        .routes(routes!(queue::queue_view))
}

/// Joins the (possibly guarded) v1 routes with the open probes and collects the document.
fn documented(v1: OpenApiRouter<AppState>) -> (Router<AppState>, OpenApiDoc) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(v1)
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .split_for_parts();
    ApiKeySecurity.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document of this API, e.g. for `coda openapi > openapi.json`.
pub fn openapi() -> OpenApiDoc {
    documented(v1_routes()).1
}

/// Every route of the service, ready to serve. Clients' addresses (for per-client limits) come
/// from `ConnectInfo<SocketAddr>`, which [`serve`] provides.
pub fn router(state: AppState) -> Router {
    // Auth guards only /api/v1: the page, the probes, the metrics and the document stay open.
    let v1 = v1_routes().route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_key,
    ));
    let (api, doc) = documented(v1);
    // Rendered once: the document is fixed for the life of the process.
    let doc = Bytes::from(serde_json::to_vec(&doc).expect("the OpenAPI document serializes"));

    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc) }),
        )
        .route("/metrics", get(render_metrics))
        .route("/api/{*rest}", any(|| async { ApiError::RouteNotFound }))
        .merge(web::web_router(&state.options.web_dir))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(track_http))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span as fn(&Request<Body>) -> tracing::Span)
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .with_state(state)
}

/// Names the request's span. Only method and path (never the query, which may hold a cancel
/// token, nor headers, which carry API keys); status and latency are added on response.
fn request_span(request: &Request<Body>) -> tracing::Span {
    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
}

/// Serves the API and the web page on `listener` until `shutdown` resolves, then stops
/// accepting, ends open event streams and waits for in-flight requests.
pub async fn serve(
    coda: Coda,
    listener: tokio::net::TcpListener,
    options: ApiOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    if !options.web_dir.join("index.html").is_file() {
        tracing::warn!(dir = %options.web_dir.display(), "no index.html in the web folder; the page will 404");
    }
    let state = AppState::new(coda, install_metrics_recorder(), options);
    serve_state(state, listener, shutdown).await
}

/// [`serve`] with a state built by the caller (e.g. its own metrics recorder).
pub async fn serve_state(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "http listening");
    }
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("http shutting down");
            state.begin_shutdown();
        })
        .await?;
    Ok(())
}
