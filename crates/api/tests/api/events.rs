use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::TestApp;

/// Reads `job` events from an SSE body until it ends.
struct EventReader {
    body: Body,
    buffer: String,
}

impl EventReader {
    /// The next event's JSON data, or `None` when the stream has ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let data: String = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if event.lines().any(|l| l == "event: job") {
                    return Some(serde_json::from_str(&data).expect("event data is a job view"));
                }
                continue; // keep-alive comments
            }
            // A stuck stream fails the test instead of hanging it.
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event within 10 s");
            match frame {
                None => return None,
                Some(frame) => {
                    if let Ok(data) = frame.expect("body frame").into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&data));
                    }
                }
            }
        }
    }
}

async fn open_events(app: &TestApp, id: &str) -> (StatusCode, Option<String>, EventReader) {
    let mut request = Request::get(format!("/api/v1/jobs/{id}/events"))
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
    let response = app.router.clone().oneshot(request).await.unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status(),
        content_type,
        EventReader {
            body: response.into_body(),
            buffer: String::new(),
        },
    )
}

#[tokio::test]
async fn the_event_stream_follows_a_job_until_it_ends() {
    let app = TestApp::start().await;
    let (id, token) = app.submit_ok().await;

    let (status, content_type, mut events) = open_events(&app, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("text/event-stream"));
    let first = events.next().await.expect("the current state comes first");
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["status"], "queued");

    let cancel = Request::delete(format!("/api/v1/jobs/{id}"))
        .header("x-cancel-token", token)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(cancel).await.status, StatusCode::OK);

    let mut last = first;
    while let Some(view) = events.next().await {
        last = view;
    }
    assert_eq!(
        last["status"], "canceled",
        "the stream ends with the final state"
    );
}

#[tokio::test]
async fn a_finished_job_streams_once_and_closes() {
    let app = TestApp::start().await;
    let (id, token) = app.submit_ok().await;
    let cancel = Request::delete(format!("/api/v1/jobs/{id}"))
        .header("x-cancel-token", token)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(cancel).await.status, StatusCode::OK);

    let (_, _, mut events) = open_events(&app, &id).await;

    assert_eq!(
        events.next().await.expect("one event")["status"],
        "canceled"
    );
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn events_of_an_unknown_job_are_a_plain_404() {
    let app = TestApp::start().await;

    let response = app
        .get(&format!("/api/v1/jobs/{}/events", ulid::Ulid::new()))
        .await;

    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.error().0, "job_not_found");
}
