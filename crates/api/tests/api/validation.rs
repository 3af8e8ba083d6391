use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{json_request, TestApp};

/// `(what, body, expected code, expected field)`.
fn bad_requests() -> Vec<(&'static str, Value, &'static str, Option<&'static str>)> {
    let with = |key: &str, value: Value| {
        let mut body = json!({ "prompt": "jazz trio", "duration_seconds": 5 });
        body[key] = value;
        body
    };
    vec![
        (
            "empty prompt",
            with("prompt", json!("")),
            "invalid_field",
            Some("prompt"),
        ),
        (
            "blank prompt",
            with("prompt", json!("   \t ")),
            "invalid_field",
            Some("prompt"),
        ),
        (
            "prompt too long",
            with("prompt", json!("x".repeat(501))),
            "invalid_field",
            Some("prompt"),
        ),
        (
            "control character",
            with("prompt", json!("jazz\u{7}trio")),
            "invalid_field",
            Some("prompt"),
        ),
        (
            "missing prompt",
            json!({ "duration_seconds": 5 }),
            "invalid_field",
            Some("prompt"),
        ),
        (
            "missing duration",
            json!({ "prompt": "jazz" }),
            "invalid_field",
            Some("duration_seconds"),
        ),
        (
            "zero duration",
            with("duration_seconds", json!(0)),
            "invalid_field",
            Some("duration_seconds"),
        ),
        (
            "duration too long",
            with("duration_seconds", json!(31)),
            "invalid_field",
            Some("duration_seconds"),
        ),
        (
            "NaN as a string",
            with("duration_seconds", json!("NaN")),
            "invalid_field",
            Some("duration_seconds"),
        ),
        (
            "negative duration",
            with("duration_seconds", json!(-3)),
            "invalid_field",
            Some("duration_seconds"),
        ),
        (
            "top_k too big",
            with("top_k", json!(4096)),
            "invalid_field",
            Some("top_k"),
        ),
        (
            "top_k negative",
            with("top_k", json!(-1)),
            "invalid_field",
            Some("top_k"),
        ),
        (
            "top_p above 1",
            with("top_p", json!(1.5)),
            "invalid_field",
            Some("top_p"),
        ),
        (
            "negative temperature",
            with("temperature", json!(-0.1)),
            "invalid_field",
            Some("temperature"),
        ),
        (
            "guidance too big",
            with("guidance_scale", json!(50)),
            "invalid_field",
            Some("guidance_scale"),
        ),
        (
            "negative seed",
            with("seed", json!(-1)),
            "invalid_field",
            Some("seed"),
        ),
        (
            "seed beyond 2^53",
            with("seed", json!(1u64 << 60)),
            "invalid_field",
            Some("seed"),
        ),
        (
            "unknown field",
            with("lenght", json!(10)),
            "unknown_field",
            Some("lenght"),
        ),
        (
            "wrong type",
            with("prompt", json!(42)),
            "invalid_field",
            Some("prompt"),
        ),
        ("array body", json!(["jazz"]), "malformed_json", None),
        (
            "temperature too high",
            with("temperature", json!(5.5)),
            "invalid_field",
            Some("temperature"),
        ),
        (
            "negative top_p",
            with("top_p", json!(-0.1)),
            "invalid_field",
            Some("top_p"),
        ),
        (
            "negative guidance",
            with("guidance_scale", json!(-1)),
            "invalid_field",
            Some("guidance_scale"),
        ),
        (
            "Infinity as a string",
            with("temperature", json!("Infinity")),
            "invalid_field",
            Some("temperature"),
        ),
        (
            "fractional top_k",
            with("top_k", json!(2.5)),
            "invalid_field",
            Some("top_k"),
        ),
        (
            "null prompt",
            with("prompt", Value::Null),
            "invalid_field",
            Some("prompt"),
        ),
        (
            "object body without fields",
            json!({}),
            "invalid_field",
            Some("prompt"),
        ),
    ]
}

#[tokio::test]
async fn bad_inputs_are_refused_naming_the_field() {
    let app = TestApp::start().await;

    for (what, body, code, field) in bad_requests() {
        let response = app.submit(&body).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            response.text()
        );
        let (got_code, got_field) = response.error();
        assert_eq!(
            (got_code.as_str(), got_field.as_deref()),
            (code, field),
            "{what}: {}",
            response.text()
        );
        if let Some(field) = field {
            let message = response.json()["error"]["message"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(
                message.contains(field),
                "{what}: the message names the field: {message}"
            );
        }
    }
    let queue = app.get("/api/v1/queue").await.json();
    assert_eq!(queue["pending"], 0, "nothing bad was queued: {queue}");
}

#[tokio::test]
async fn malformed_json_is_refused_in_the_error_shape() {
    let app = TestApp::start().await;

    for raw in [
        "{\"prompt\": \"jazz\",",
        "not json",
        "",
        "{\"prompt\":\"a\",\"duration_seconds\":3} trailing",
        // JSON has no NaN or Infinity; a number too large for f64 is not Infinity either.
        "{\"prompt\":\"a\",\"duration_seconds\":NaN}",
        "{\"prompt\":\"a\",\"duration_seconds\":Infinity}",
        "{\"prompt\":\"a\",\"duration_seconds\":-Infinity}",
        "{\"prompt\":\"a\",\"duration_seconds\":1e999}",
    ] {
        let response = app
            .send(json_request(Method::POST, "/api/v1/jobs", raw.to_owned()))
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{raw:?}: {}",
            response.text()
        );
        assert_eq!(response.error(), ("malformed_json".into(), None), "{raw:?}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_in_the_error_shape() {
    let app = TestApp::start().await;
    let huge =
        json!({ "prompt": "x".repeat(coda_api::BODY_LIMIT_BYTES + 1), "duration_seconds": 5 });

    let response = app.submit(&huge).await;

    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.text()
    );
    assert_eq!(response.error(), ("body_too_large".into(), None));
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_refused() {
    let app = TestApp::start().await;
    let request = Request::post("/api/v1/jobs")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(crate::common::valid_request().to_string()))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.error().0, "unsupported_media_type");
}
