//! Extractors whose rejections speak the API's error shape instead of axum's plain text.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use coda_jobs::JobId;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body accepted; a generation request is a few hundred bytes.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// A JSON body. Unlike `axum::Json`, every rejection names the field at fault when serde knows
/// it, and answers in the API's error shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge {
                    limit: BODY_LIMIT_BYTES,
                }
            } else {
                ApiError::MalformedJson(format!(
                    "could not read the request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON document, mapping serde's errors to field-level API errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedJson(format!("request body is not valid JSON: {e}")))?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = plain_types(&inner.to_string());
    if !inner.is_data() {
        return ApiError::MalformedJson(format!("request body is not valid JSON: {message}"));
    }
    // serde reports unknown and missing fields from the enclosing object, so the path does not
    // hold their names; its messages do, in backticks.
    if let Some(name) = backticked_after(&message, "unknown field `") {
        return ApiError::UnknownField {
            field: name,
            message,
        };
    }
    if let Some(name) = backticked_after(&message, "missing field `") {
        return ApiError::InvalidField {
            field: name,
            message,
        };
    }
    if path == "." {
        return ApiError::MalformedJson(
            "request body must be a JSON object of request fields".into(),
        );
    }
    ApiError::InvalidField {
        message: format!("{path}: {message}"),
        field: path,
    }
}

/// serde names Rust types; clients think in JSON ones.
fn plain_types(message: &str) -> String {
    message
        .replace("expected f64", "expected a number")
        .replace("expected u32", "expected a whole number ≥ 0")
        .replace("expected u64", "expected a whole number ≥ 0")
}

fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_owned)
}

/// A query string, rejected in the API's error shape.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) =
            Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| {
                    let text = rejection.body_text();
                    // axum words it "Failed to deserialize query string: <field>: <serde message>".
                    let detail = text
                        .strip_prefix("Failed to deserialize query string: ")
                        .unwrap_or(&text);
                    let field = detail
                        .split_once(": ")
                        .map(|(f, _)| f.to_owned())
                        .filter(|f| !f.contains(' '));
                    ApiError::InvalidQuery {
                        field,
                        message: format!("invalid query string: {detail}"),
                    }
                })?;
        Ok(ApiQuery(value))
    }
}

/// The `{id}` path segment, validated as a job id before anything touches Redis or the disk.
#[derive(Debug, Clone, Copy)]
pub struct JobIdPath(pub JobId);

impl<S: Send + Sync> FromRequestParts<S> for JobIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::InvalidId {
                given: rejection.body_text(),
            })?;
        match JobId::from_str(&raw) {
            // Only the canonical spelling: the ULID decoder wraps overflowing ids (`ZZZ…` reads as
            // `7ZZ…`), which would make two URLs name one job.
            Ok(id) if id.to_string().eq_ignore_ascii_case(&raw) => Ok(JobIdPath(id)),
            _ => Err(ApiError::InvalidId { given: raw }),
        }
    }
}
