//! The ledger keeps the same record on SQLite and PostgreSQL.

mod common;

use coda_jobs::{JobId, JobStatus, Ledger, LedgerRow};

fn row(status: JobStatus) -> LedgerRow {
    LedgerRow {
        id: JobId::new(),
        params: common::params("round trip", 3.5),
        client: "tester".into(),
        status,
        created_ms: 1_700_000_000_123,
        started_ms: None,
        finished_ms: None,
        attempts: 0,
        audio_seconds: None,
        compute_seconds: None,
        ms_per_step: None,
        error: None,
        worker: None,
    }
}

async fn round_trip(ledger: &Ledger) {
    let mut a = row(JobStatus::Queued);
    ledger.insert(&a).await.unwrap();
    assert_eq!(ledger.get(a.id).await.unwrap().as_ref(), Some(&a));

    a.status = JobStatus::Succeeded;
    a.started_ms = Some(1_700_000_001_000);
    a.finished_ms = Some(1_700_000_009_500);
    a.attempts = 2;
    a.audio_seconds = Some(3.5);
    a.compute_seconds = Some(8.25);
    a.ms_per_step = Some(41.5);
    a.worker = Some("w-1".into());
    ledger.update(&a).await.unwrap();
    assert_eq!(ledger.get(a.id).await.unwrap().as_ref(), Some(&a));

    let mut b = row(JobStatus::Failed);
    b.error = Some("out of memory: ünïcode kept".into());
    ledger.insert(&b).await.unwrap();
    let page = ledger.page(None, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![b.id, a.id]
    );
    assert_eq!(page[0].error, b.error);
    assert_eq!(ledger.page(Some(b.id), 10).await.unwrap().len(), 1);

    ledger.delete(b.id).await.unwrap();
    assert!(ledger.get(b.id).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_round_trip_creates_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/coda.db");
    let ledger = Ledger::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    round_trip(&ledger).await;
    // Migrations are idempotent: a second process connects to the same file.
    Ledger::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
}

#[tokio::test]
async fn postgres_round_trip() {
    let (name, url) = common::create_postgres().await;
    let ledger = Ledger::connect(&url).await.unwrap();
    round_trip(&ledger).await;
    ledger.close().await;
    common::drop_postgres(&name).await;
}
