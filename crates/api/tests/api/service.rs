//! The parts around the jobs API: probes, metrics, the page, unknown routes, audio states.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::common::{TestApp, INDEX_HTML};

#[tokio::test]
async fn probes_report_alive_and_ready() {
    let app = TestApp::start().await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["status"], "ready");
}

#[tokio::test]
async fn the_page_is_served_at_the_root_and_at_job_urls() {
    let app = TestApp::start().await;
    let (id, _) = app.submit_ok().await;

    for uri in ["/".to_owned(), format!("/jobs/{id}")] {
        let page = app.get(&uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert_eq!(page.text(), INDEX_HTML, "{uri}");
        assert!(
            page.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn unknown_api_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::start().await;

    let missing = app.get("/api/v1/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error().0, "route_not_found");

    let wrong_method = app
        .send(Request::put("/api/v1/jobs").body(Body::empty()).unwrap())
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error().0, "method_not_allowed");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = TestApp::start().await;
    let (id, _) = app.submit_ok().await;
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{id}")).await.status,
        StatusCode::OK
    );

    let metrics = app.get("/metrics").await;

    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.text();
    assert!(
        text.contains(
            "http_requests_total{method=\"GET\",route=\"/api/v1/jobs/{id}\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("coda_queue_pending"), "{text}");
    assert!(!text.contains(&id), "ids never become labels");
}

#[tokio::test]
async fn audio_of_a_job_that_has_not_succeeded_is_a_conflict() {
    let app = TestApp::start().await;
    let (id, _) = app.submit_ok().await;

    let response = app.get(&format!("/api/v1/jobs/{id}/audio")).await;

    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text());
    assert_eq!(response.error().0, "audio_not_ready");
}
