use axum::body::Body;
use axum::http::{Request, StatusCode};
use coda_jobs::{Finish, JobId, Outcome, Start};

use crate::common::TestApp;

/// Plays the worker's part for one job: starts it and records success, without a model.
async fn succeed(app: &TestApp, id: &str) -> JobId {
    let id: JobId = id.parse().unwrap();
    let link = app.coda.worker_link("test-worker");
    assert!(matches!(link.start(id).await.unwrap(), Start::Run { .. }));
    link.finish(
        id,
        &Finish {
            compute_seconds: 1.0,
            ..Finish::nothing(Outcome::Succeeded { audio_seconds: 4.0 })
        },
    )
    .await
    .unwrap();
    id
}

fn fake_wav() -> Vec<u8> {
    (0..4096u32).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn finished_audio_downloads_whole_or_by_range() {
    let app = TestApp::start().await;
    let (id, _) = app.submit_ok().await;
    let job = succeed(&app, &id).await;
    let path = app.coda.audio_path(job);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, fake_wav()).unwrap();

    let whole = app.get(&format!("/api/v1/jobs/{id}/audio")).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text());
    assert_eq!(whole.header("content-type"), Some("audio/wav"));
    assert_eq!(whole.body.as_ref(), fake_wav().as_slice());

    let range = Request::get(format!("/api/v1/jobs/{id}/audio"))
        .header("range", "bytes=100-199")
        .body(Body::empty())
        .unwrap();
    let part = app.send(range).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.header("content-range"), Some("bytes 100-199/4096"));
    assert_eq!(part.body.as_ref(), &fake_wav()[100..200]);
}

#[tokio::test]
async fn audio_removed_by_retention_is_gone() {
    let app = TestApp::start().await;
    let (id, _) = app.submit_ok().await;
    succeed(&app, &id).await;

    let response = app.get(&format!("/api/v1/jobs/{id}/audio")).await;

    assert_eq!(response.status, StatusCode::GONE, "{}", response.text());
    assert_eq!(response.error().0, "audio_expired");
}
