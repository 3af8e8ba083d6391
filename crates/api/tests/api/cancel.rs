use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::common::{TestApp, TestResponse};

async fn cancel(
    app: &TestApp,
    id: &str,
    header_token: Option<&str>,
    query_token: Option<&str>,
) -> TestResponse {
    let uri = match query_token {
        Some(token) => format!("/api/v1/jobs/{id}?token={token}"),
        None => format!("/api/v1/jobs/{id}"),
    };
    let mut request = Request::delete(uri);
    if let Some(token) = header_token {
        request = request.header("x-cancel-token", token);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn cancelling_needs_the_token_from_the_submission() {
    let app = TestApp::start().await;
    let (id, token) = app.submit_ok().await;

    let without = cancel(&app, &id, None, None).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{}", without.text());
    assert_eq!(without.error().0, "forbidden");

    let wrong = cancel(&app, &id, Some("not-the-token"), None).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{id}")).await.json()["status"],
        "queued"
    );

    let right = cancel(&app, &id, Some(&token), None).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text());
    assert_eq!(right.json()["status"], "canceled");
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{id}")).await.json()["status"],
        "canceled"
    );
}

#[tokio::test]
async fn the_token_may_come_in_the_query_string() {
    let app = TestApp::start().await;
    let (id, token) = app.submit_ok().await;

    let response = cancel(&app, &id, None, Some(&token)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["status"], "canceled");
}

#[tokio::test]
async fn a_finished_job_cannot_be_cancelled_again() {
    let app = TestApp::start().await;
    let (id, token) = app.submit_ok().await;
    assert_eq!(
        cancel(&app, &id, Some(&token), None).await.status,
        StatusCode::OK
    );

    let again = cancel(&app, &id, Some(&token), None).await;

    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert_eq!(again.error().0, "already_finished");
}

#[tokio::test]
async fn cancelling_an_unknown_job_is_not_found() {
    let app = TestApp::start().await;

    let response = cancel(&app, &ulid::Ulid::new().to_string(), Some("whatever"), None).await;

    assert_eq!(
        response.status,
        StatusCode::NOT_FOUND,
        "{}",
        response.text()
    );
    assert_eq!(response.error().0, "job_not_found");
}

#[tokio::test]
async fn jobs_behind_a_cancelled_one_move_up() {
    let app = TestApp::start().await;
    let (first, token) = app.submit_ok().await;
    let (second, _) = app.submit_ok().await;
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{second}")).await.json()["position"],
        2
    );

    assert_eq!(
        cancel(&app, &first, Some(&token), None).await.status,
        StatusCode::OK
    );

    assert_eq!(
        app.get(&format!("/api/v1/jobs/{second}")).await.json()["position"],
        1
    );
}
