use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use secrecy::SecretString;

use crate::common::{json_request, valid_request, TestApp};

async fn keyed_app() -> TestApp {
    TestApp::with(|settings, options| {
        options.auth.api_keys = vec![SecretString::from("key-one"), SecretString::from("key-two")];
        settings.queue.max_pending_per_client = 1;
    })
    .await
}

fn submit_with(key: Option<&str>) -> Request<Body> {
    let mut request = json_request(Method::POST, "/api/v1/jobs", valid_request().to_string());
    if let Some(key) = key {
        request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {key}").parse().unwrap(),
        );
    }
    request
}

#[tokio::test]
async fn with_keys_configured_the_api_needs_one() {
    let app = keyed_app().await;

    for key in [None, Some("key-thr"), Some("key-one-and-more")] {
        let response = app.send(submit_with(key)).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(response.error().0, "unauthorized");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(
        app.get("/api/v1/queue").await.status,
        StatusCode::UNAUTHORIZED
    );

    let accepted = app.send(submit_with(Some("key-two"))).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
}

#[tokio::test]
async fn the_page_probes_metrics_and_document_stay_open() {
    let app = keyed_app().await;

    for uri in ["/", "/healthz", "/metrics", "/api/openapi.json"] {
        assert_eq!(app.get(uri).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn per_client_limits_count_per_key_not_per_address() {
    let app = keyed_app().await;

    assert_eq!(
        app.send(submit_with(Some("key-one"))).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.send(submit_with(Some("key-two"))).await.status,
        StatusCode::ACCEPTED,
        "same address, other key"
    );
    assert_eq!(
        app.send(submit_with(Some("key-one"))).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
