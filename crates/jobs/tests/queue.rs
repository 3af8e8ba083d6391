//! The queue as the api sees it: order, positions, cancel, admission.

mod common;

use coda_jobs::{CancelError, JobStatus, SubmitError};

#[tokio::test]
async fn jobs_wait_in_submission_order() {
    let dir = tempfile::tempdir().unwrap();
    let coda = common::coda(&dir, |_| {}).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let submitted = coda
            .submit(
                common::params(&format!("tune {i}"), 5.0),
                &format!("client-{i}"),
            )
            .await
            .unwrap();
        assert_eq!(submitted.view.status, JobStatus::Queued);
        ids.push(submitted.view.id);
    }
    for (i, id) in ids.iter().enumerate() {
        let view = coda.job(*id).await.unwrap().expect("job exists");
        assert_eq!(view.status, JobStatus::Queued);
        assert_eq!(view.position, Some(i as u64 + 1), "job {i}");
        assert_eq!(view.jobs_ahead, Some(i as u64));
        let eta = view.eta.expect("queued jobs have an eta");
        assert!(eta.start_seconds.low <= eta.start_seconds.high);
        assert!(eta.finish_seconds.low > eta.start_seconds.low);
    }
    let first = coda.job(ids[0]).await.unwrap().unwrap().eta.unwrap();
    let third = coda.job(ids[2]).await.unwrap().unwrap().eta.unwrap();
    assert!(
        third.start_seconds.low > first.start_seconds.high,
        "later jobs start later"
    );

    let queue = coda.queue().await.unwrap();
    assert_eq!(queue.pending, 3);
    assert_eq!(queue.running, 0);
    assert_eq!(queue.workers_alive, 0);
    common::drop_namespace(&coda.settings().redis.namespace).await;
}

#[tokio::test]
async fn cancel_needs_the_token_and_frees_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let coda = common::coda(&dir, |_| {}).await;
    let first = coda
        .submit(common::params("first", 5.0), "a")
        .await
        .unwrap();
    let second = coda
        .submit(common::params("second", 5.0), "a")
        .await
        .unwrap();
    assert_eq!(second.view.position, Some(2));

    let err = coda
        .cancel(first.view.id, "not-the-token")
        .await
        .unwrap_err();
    assert!(matches!(err, CancelError::Forbidden), "{err:?}");
    assert_eq!(
        coda.job(first.view.id).await.unwrap().unwrap().status,
        JobStatus::Queued
    );

    let canceled = coda
        .cancel(first.view.id, &first.cancel_token)
        .await
        .unwrap();
    assert_eq!(canceled.status, JobStatus::Canceled);
    assert!(canceled.finished_at.is_some());
    assert_eq!(canceled.position, None);
    assert_eq!(
        coda.job(second.view.id).await.unwrap().unwrap().position,
        Some(1)
    );

    let again = coda
        .cancel(first.view.id, &first.cancel_token)
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            CancelError::AlreadyFinished {
                status: JobStatus::Canceled
            }
        ),
        "{again:?}"
    );

    let row = coda.ledger().get(first.view.id).await.unwrap().unwrap();
    assert_eq!(row.status, JobStatus::Canceled);
    assert_eq!(coda.queue().await.unwrap().pending, 1);

    let unknown = coda_jobs::JobId::new();
    assert!(matches!(
        coda.cancel(unknown, "x").await.unwrap_err(),
        CancelError::NotFound
    ));
    assert!(coda.job(unknown).await.unwrap().is_none());
    common::drop_namespace(&coda.settings().redis.namespace).await;
}

#[tokio::test]
async fn a_client_over_its_limit_is_told_when_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let coda = common::coda(&dir, |s| s.queue.max_pending_per_client = 2).await;
    let first = coda
        .submit(common::params("one", 5.0), "greedy")
        .await
        .unwrap();
    coda.submit(common::params("two", 5.0), "greedy")
        .await
        .unwrap();
    let err = coda
        .submit(common::params("three", 5.0), "greedy")
        .await
        .unwrap_err();
    match &err {
        SubmitError::ClientLimit {
            limit,
            retry_after_seconds,
        } => {
            assert_eq!(*limit, 2);
            assert!(*retry_after_seconds >= 1);
        }
        other => panic!("expected a client limit, got {other:?}"),
    }
    // Others are not affected, and a cancel frees a slot.
    coda.submit(common::params("other", 5.0), "modest")
        .await
        .unwrap();
    coda.cancel(first.view.id, &first.cancel_token)
        .await
        .unwrap();
    coda.submit(common::params("three", 5.0), "greedy")
        .await
        .unwrap();
    common::drop_namespace(&coda.settings().redis.namespace).await;
}

#[tokio::test]
async fn a_full_queue_refuses_with_an_expected_wait() {
    let dir = tempfile::tempdir().unwrap();
    let coda = common::coda(&dir, |s| s.queue.max_pending = 3).await;
    // Concurrent submits must not overshoot the cap.
    let submits = (0..6).map(|i| {
        let coda = coda.clone();
        async move {
            coda.submit(common::params("crowd", 5.0), &format!("c{i}"))
                .await
        }
    });
    let results = futures_join_all(submits).await;
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(admitted, 3);
    for r in results.into_iter().filter_map(Result::err) {
        match r {
            SubmitError::QueueFull {
                retry_after_seconds,
                expected_wait,
            } => {
                assert!(retry_after_seconds >= 1);
                assert!(
                    expected_wait.high >= expected_wait.low && expected_wait.low > 0.0,
                    "{expected_wait:?}"
                );
            }
            other => panic!("expected a full queue, got {other:?}"),
        }
    }
    assert_eq!(coda.queue().await.unwrap().pending, 3);
    common::drop_namespace(&coda.settings().redis.namespace).await;
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn history_pages_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let coda = common::coda(&dir, |s| s.queue.max_pending_per_client = 10).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            coda.submit(common::params(&format!("n{i}"), 2.0), "h")
                .await
                .unwrap()
                .view
                .id,
        );
    }
    let page = coda.history(None, 2).await.unwrap();
    assert_eq!(
        page.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );
    assert_eq!(
        page.jobs[0].position,
        Some(5),
        "unfinished jobs show their live state"
    );
    let page2 = coda.history(page.next_cursor.as_deref(), 2).await.unwrap();
    assert_eq!(
        page2.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let page3 = coda.history(page2.next_cursor.as_deref(), 2).await.unwrap();
    assert_eq!(
        page3.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    assert_eq!(page3.next_cursor, None);
    let err = coda.history(Some("../etc"), 2).await.unwrap_err();
    assert!(matches!(err, coda_jobs::Error::BadCursor(_)), "{err:?}");
    common::drop_namespace(&coda.settings().redis.namespace).await;
}
