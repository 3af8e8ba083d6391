//! Liveness and readiness probes; open even when API keys are required.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `not_ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Why the service is not ready (which dependency, what failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The process is alive and serving HTTP. Touches no dependency.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health, example = json!({"status": "ok"}))))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        reason: None,
    })
}

/// The service can take jobs: Redis and the ledger both answer.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = Health, example = json!({"status": "ready"})),
    (status = 503, body = Health, example = json!({"status": "not_ready", "reason": "redis: connection refused"})),
))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.coda.readiness().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ready",
                reason: None,
            }),
        ),
        Err(error) => {
            // Both errors name their dependency ("redis: …", "ledger: …").
            let reason = error.to_string();
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "not_ready",
                    reason: Some(reason),
                }),
            )
        }
    }
}
