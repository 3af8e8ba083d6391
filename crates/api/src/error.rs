//! Every way a request can fail, mapped to HTTP in one place.
//!
//! Policy: a client error tells the client exactly what to fix (the message names the field, the
//! bound and the value given; `field` is set when one field is at fault). A server error tells the
//! client only that it happened — the detail is logged here, once, and nowhere else.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use coda_jobs::Range;
use serde::Serialize;
use utoipa::ToSchema;

/// The error answer of every endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable snake_case code; branch on this, not on the message.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when exactly one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds after which a retry may succeed (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// How long a new job would wait before it starts, as a range in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_wait_seconds: Option<Range>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field has a value the service does not accept (bounds, type, missing).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("{message}")]
    UnknownField { field: String, message: String },
    /// The body is not JSON, or not the JSON shape expected (e.g. an array).
    #[error("{0}")]
    MalformedJson(String),
    #[error("request body must be at most {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("{message}")]
    InvalidQuery {
        field: Option<String>,
        message: String,
    },
    #[error("{given:?} is not a job id (a 26-character ULID such as 01J9Z8Q4J6G5X7V2M3N4P5R6S7)")]
    InvalidId { given: String },
    #[error("no job with id {0}")]
    JobNotFound(String),
    #[error("no such endpoint")]
    RouteNotFound,
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    #[error("missing or unknown API key; send `Authorization: Bearer <key>`")]
    Unauthorized,
    #[error("the cancel token is missing or does not match this job")]
    Forbidden,
    #[error("job {id} already finished ({status}); nothing to cancel")]
    AlreadyFinished { id: String, status: String },
    #[error("job {id} is {status}; audio exists only once it has succeeded")]
    AudioNotReady { id: String, status: String },
    #[error("the audio of job {0} has expired and was deleted")]
    AudioExpired(String),
    #[error("you already have {limit} unfinished jobs, the most one client may have; retry when one finishes")]
    ClientLimit {
        limit: u64,
        retry_after_seconds: u64,
    },
    #[error("the queue is full; a new job would wait {:.0}–{:.0} s; retry in about {retry_after_seconds} s", expected_wait.low, expected_wait.high)]
    QueueFull {
        retry_after_seconds: u64,
        expected_wait: Range,
    },
    /// A dependency (Redis, the ledger) cannot be reached. `source` is logged, never sent.
    #[error("the job queue is unreachable right now; retry in a few seconds")]
    Unavailable { source: BoxError },
    /// A bug or an unexpected failure. `source` is logged, never sent.
    #[error("internal error")]
    Internal { source: BoxError },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Seconds a client is told to wait when a dependency is down.
const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

impl ApiError {
    pub fn internal(source: impl Into<BoxError>) -> Self {
        ApiError::Internal {
            source: source.into(),
        }
    }

    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        ApiError::Unavailable {
            source: source.into(),
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::UnknownField { .. } => "unknown_field",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::InvalidQuery { .. } => "invalid_query",
            ApiError::InvalidId { .. } => "invalid_id",
            ApiError::JobNotFound(_) => "job_not_found",
            ApiError::RouteNotFound => "route_not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::AlreadyFinished { .. } => "already_finished",
            ApiError::AudioNotReady { .. } => "audio_not_ready",
            ApiError::AudioExpired(_) => "audio_expired",
            ApiError::ClientLimit { .. } => "client_limit",
            ApiError::QueueFull { .. } => "queue_full",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal { .. } => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidField { .. }
            | ApiError::UnknownField { .. }
            | ApiError::MalformedJson(_)
            | ApiError::InvalidQuery { .. }
            | ApiError::InvalidId { .. } => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::JobNotFound(_) | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::AlreadyFinished { .. } | ApiError::AudioNotReady { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::AudioExpired(_) => StatusCode::GONE,
            ApiError::ClientLimit { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::QueueFull { .. } | ApiError::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidField { field, .. } | ApiError::UnknownField { field, .. } => {
                Some(field)
            }
            ApiError::InvalidQuery { field, .. } => field.as_deref(),
            ApiError::InvalidId { .. } => Some("id"),
            _ => None,
        }
    }

    fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            ApiError::ClientLimit {
                retry_after_seconds,
                ..
            }
            | ApiError::QueueFull {
                retry_after_seconds,
                ..
            } => Some((*retry_after_seconds).max(1)),
            ApiError::Unavailable { .. } => Some(UNAVAILABLE_RETRY_SECONDS),
            _ => None,
        }
    }

    /// The body the client sees. Also used to build the OpenAPI examples, so documentation and
    /// behaviour cannot drift apart.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field: self.field().map(str::to_owned),
                retry_after_seconds: self.retry_after_seconds(),
                expected_wait_seconds: match self {
                    ApiError::QueueFull { expected_wait, .. } => Some(*expected_wait),
                    _ => None,
                },
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal { source } => {
                let detail = chain(source.as_ref());
                tracing::error!(code = self.code(), %detail, "request failed")
            }
            ApiError::Unavailable { source } => {
                let detail = chain(source.as_ref());
                tracing::warn!(code = self.code(), %detail, "dependency unavailable")
            }
            _ => {}
        }
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after_seconds() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// An error and its causes, one line: what the log keeps of a 5xx. A cause whose text the
/// message above it already quotes is not repeated.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

impl From<coda_jobs::Error> for ApiError {
    fn from(error: coda_jobs::Error) -> Self {
        use coda_jobs::Error;
        match error {
            Error::BadCursor(_) => ApiError::InvalidQuery {
                field: Some("cursor".into()),
                message: format!("cursor must be the next_cursor of a previous page: {error}"),
            },
            Error::Redis(_) | Error::Queue(_) | Error::Database(_) => ApiError::unavailable(error),
            Error::Migrate(_)
            | Error::Io(_)
            | Error::Corrupt(_)
            | Error::UnexpectedReply { .. }
            | Error::Settings(_) => ApiError::internal(error),
        }
    }
}

impl From<coda_jobs::SubmitError> for ApiError {
    fn from(error: coda_jobs::SubmitError) -> Self {
        use coda_jobs::SubmitError;
        match error {
            SubmitError::QueueFull {
                retry_after_seconds,
                expected_wait,
            } => ApiError::QueueFull {
                retry_after_seconds,
                expected_wait,
            },
            SubmitError::ClientLimit {
                limit,
                retry_after_seconds,
            } => ApiError::ClientLimit {
                limit: limit as u64,
                retry_after_seconds,
            },
            SubmitError::Backend(error) => error.into(),
        }
    }
}

impl From<coda_jobs::ValidationError> for ApiError {
    fn from(error: coda_jobs::ValidationError) -> Self {
        ApiError::InvalidField {
            field: error.field.to_owned(),
            message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(error: ApiError) -> (StatusCode, serde_json::Value, Option<String>) {
        let response = error.into_response();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap(), retry)
    }

    #[test]
    fn server_errors_never_leak_their_detail() {
        let (status, body, _) =
            body_of(ApiError::internal("sqlite: disk I/O error at /secret/path"));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "internal", "message": "internal error"}})
        );
    }

    #[test]
    fn redis_down_is_a_clear_503_with_retry_after() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let (status, body, retry) = body_of(
            coda_jobs::SubmitError::Backend(coda_jobs::Error::Redis(refused.into())).into(),
        );
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "unavailable");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("unreachable") && !message.contains("refused"),
            "{message}"
        );
        assert_eq!(retry.as_deref(), Some("5"));
    }

    #[test]
    fn the_log_line_of_a_server_error_keeps_every_cause_once() {
        let io = std::io::Error::other("disk full");
        let error = coda_jobs::Error::Queue(Box::new(io));
        assert_eq!(chain(&error), "queue: disk full");
        #[derive(Debug, thiserror::Error)]
        #[error("writing the result")]
        struct Outer(#[source] std::io::Error);
        let outer = Outer(std::io::Error::other("disk full"));
        assert_eq!(chain(&outer), "writing the result: disk full");
    }

    #[test]
    fn field_appears_only_when_one_field_is_at_fault() {
        let (_, body, _) = body_of(ApiError::InvalidField {
            field: "top_p".into(),
            message: "top_p …".into(),
        });
        assert_eq!(body["error"]["field"], "top_p");
        let (_, body, _) = body_of(ApiError::MalformedJson("not JSON".into()));
        assert!(body["error"].get("field").is_none());
    }
}
