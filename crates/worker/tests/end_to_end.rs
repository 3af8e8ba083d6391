//! The worker against real Redis, a SQLite ledger and the tiny model.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use coda_jobs::{Coda, GenerationRequest, JobId, JobParams, JobStatus, JobView, Settings};
use coda_musicgen::MusicGen;
use coda_worker::{Footprint, LoadedModel, WorkerSettings};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The tiny model is generated once per test run and shared.
fn model() -> LoadedModel {
    static MODEL: OnceLock<Arc<MusicGen>> = OnceLock::new();
    let model = MODEL
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("coda-worker-tests");
            let path = coda_musicgen::resolve_model("tiny", &dir).expect("tiny model");
            Arc::new(MusicGen::load(&path, &Default::default()).expect("load tiny model"))
        })
        .clone();
    LoadedModel {
        model,
        footprint: Footprint {
            model_bytes: 0,
            per_job_bytes: 0,
            shortest_job_bytes: 0,
        },
    }
}

/// The worker section of these tests: quick heartbeats and polls.
fn worker_settings(tweak: impl FnOnce(&mut WorkerSettings)) -> WorkerSettings {
    let mut w = WorkerSettings {
        heartbeat_seconds: 1,
        poll_interval_ms: 50,
        ..WorkerSettings::default()
    };
    tweak(&mut w);
    w
}

/// The worker section a queue handle was made from, as the binary would hand it to the worker.
fn worker_settings_of(coda: &Coda) -> WorkerSettings {
    let fleet = coda.settings().fleet;
    worker_settings(|w| {
        w.concurrency = fleet.concurrency;
        w.max_attempts = fleet.max_attempts;
        w.heartbeat_seconds = fleet.heartbeat_seconds;
        w.device_watts = fleet.device_watts;
    })
}

async fn coda(dir: &tempfile::TempDir, tweak: impl FnOnce(&mut WorkerSettings)) -> Coda {
    let mut s = Settings::default();
    s.redis.namespace = format!("test-{}", ulid::Ulid::new());
    s.storage.dir = dir.path().to_path_buf();
    s.fleet = worker_settings(tweak).fleet();
    s.queue.max_pending_per_client = 100;
    s.limits.max_duration_seconds = 600.0;
    Coda::connect(&s).await.expect("connect")
}

fn params(seconds: f64) -> JobParams {
    let request = GenerationRequest {
        prompt: "a test tune".into(),
        duration_seconds: seconds,
        top_k: None,
        top_p: None,
        temperature: None,
        guidance_scale: None,
        seed: Some(1),
    };
    request
        .validate(&coda_jobs::settings::Limits {
            max_duration_seconds: 600.0,
            max_prompt_chars: 100,
        })
        .unwrap()
}

/// Deletes the test's Redis keys.
async fn cleanup(coda: &Coda) {
    let client = redis::Client::open(coda.settings().redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pattern = format!("{}:*", coda.settings().redis.namespace);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

struct RunningWorker {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), coda_worker::WorkerError>>,
}

fn start_worker(coda: &Coda) -> RunningWorker {
    let (stop, rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = rx.await;
    };
    let settings = worker_settings_of(coda);
    let coda = coda.clone();
    let handle =
        tokio::spawn(async move { coda_worker::run(coda, model(), &settings, shutdown).await });
    RunningWorker { stop, handle }
}

impl RunningWorker {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.handle.await.unwrap().unwrap();
    }
}

/// Polls `check` until it yields, failing after `secs`.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn view(coda: &Coda, id: JobId) -> JobView {
    coda.job(id).await.unwrap().expect("job exists")
}

/// Starts a worker, crashes it once job `id` is composing (its futures are dropped without any
/// clean-up), starts another and returns the job's final view with the worker still running.
async fn crash_mid_job_then_restart(coda: &Coda, id: JobId) -> (JobView, RunningWorker) {
    let crashing = start_worker(coda);
    eventually(120, "the job to run", || async {
        view(coda, id).await.progress.filter(|p| p.step > 0)
    })
    .await;
    crashing.handle.abort();
    let _ = crashing.handle.await;
    let second = start_worker(coda);
    (until_final(coda, id, 180).await, second)
}

async fn until_final(coda: &Coda, id: JobId, secs: u64) -> JobView {
    eventually(secs, "a final status", || async {
        let v = view(coda, id).await;
        v.status.is_final().then_some(v)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_jobs_run_one_at_a_time_in_order_and_leave_wavs() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |_| {}).await;
    let mut ids = Vec::new();
    for seconds in [1.0, 1.5, 2.0] {
        ids.push(coda.submit(params(seconds), "e2e").await.unwrap().view.id);
    }
    let worker = start_worker(&coda);
    // `queue()` is one atomic look at the queue, so two jobs seen running really overlapped.
    let max_running = AtomicU64::new(0);
    let (seen, ids_ref, coda_ref) = (&max_running, &ids, &coda);
    eventually(180, "three successes", move || async move {
        seen.fetch_max(coda_ref.queue().await.unwrap().running, Ordering::Relaxed);
        let mut done = 0;
        for id in ids_ref {
            match view(coda_ref, *id).await.status {
                JobStatus::Succeeded => done += 1,
                JobStatus::Running | JobStatus::Queued => {}
                other => panic!("unexpected status {other}"),
            }
        }
        (done == ids_ref.len()).then_some(())
    })
    .await;
    let max_running = max_running.load(Ordering::Relaxed);
    assert!(
        max_running <= 1,
        "at most one job runs at once, saw {max_running}"
    );

    let rows: Vec<_> = futures_rows(&coda, &ids)
        .await
        .into_iter()
        .map(|r| (r.started_ms.unwrap(), r.finished_ms.unwrap()))
        .collect();
    for pair in rows.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "started in submission order, one after the other: {rows:?}"
        );
    }
    for (id, seconds) in ids.iter().zip([1.0, 1.5, 2.0]) {
        let v = view(&coda, *id).await;
        assert_eq!(v.attempts, 1);
        assert!(v
            .audio_url
            .as_deref()
            .unwrap()
            .ends_with(&format!("/api/v1/jobs/{id}/audio")));
        let acc = v.accounting.unwrap();
        assert!(acc.compute_seconds.unwrap() > 0.0);
        let reader = hound::WavReader::open(coda.audio_path(*id)).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.sample_rate, spec.channels), (32000, 1));
        let length = reader.duration() as f64 / 32000.0;
        assert!(
            (length - seconds).abs() < 0.05,
            "asked {seconds} s, got {length} s"
        );
        assert!(!dir.path().join(format!("audio/{id}.wav.tmp")).exists());
    }
    let queue = coda.queue().await.unwrap();
    eprintln!(
        "tiny model: {:?} ms per decoding step; pickup-to-finish rows {rows:?}",
        queue.ms_per_step
    );
    assert_eq!(queue.workers_alive, 1);
    assert!(queue.ms_per_step.unwrap() > 0.0);
    worker.stop().await;
    assert_eq!(coda.queue().await.unwrap().workers_alive, 0);
    cleanup(&coda).await;
}

async fn futures_rows(coda: &Coda, ids: &[JobId]) -> Vec<coda_jobs::LedgerRow> {
    let mut rows = Vec::new();
    for id in ids {
        rows.push(coda.ledger().get(*id).await.unwrap().unwrap());
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_slots_never_run_more_than_two() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |w| w.concurrency = 2).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(coda.submit(params(2.0), "e2e").await.unwrap().view.id);
    }
    let worker = start_worker(&coda);
    for id in &ids {
        assert_eq!(
            until_final(&coda, *id, 180).await.status,
            JobStatus::Succeeded
        );
    }
    let rows = futures_rows(&coda, &ids).await;
    for r in &rows {
        let start = r.started_ms.unwrap();
        let overlapping = rows
            .iter()
            .filter(|o| o.started_ms.unwrap() <= start && o.finished_ms.unwrap() > start)
            .count();
        assert!(overlapping <= 2, "{overlapping} jobs running at once");
    }
    worker.stop().await;
    cleanup(&coda).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_job_stops_when_canceled() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |_| {}).await;
    let job = coda.submit(params(600.0), "e2e").await.unwrap();
    let id = job.view.id;
    let worker = start_worker(&coda);
    let progress = eventually(120, "decoding progress", || async {
        view(&coda, id).await.progress.filter(|p| p.step > 0)
    })
    .await;
    assert_eq!(progress.total, 600 * 50 + 3);
    let asked = coda.cancel(id, &job.cancel_token).await.unwrap();
    let asked_at = std::time::Instant::now();
    assert!(matches!(
        asked.status,
        JobStatus::Running | JobStatus::Canceled
    ));
    let last = until_final(&coda, id, 30).await;
    let took = asked_at.elapsed();
    assert_eq!(last.status, JobStatus::Canceled);
    let client = redis::Client::open(coda.settings().redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{}:job:{id}", coda.settings().redis.namespace);
    let final_step: u64 = redis::cmd("HGET")
        .arg(key)
        .arg("step")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(final_step < progress.total, "stopped before the end");
    eprintln!("canceled after {took:?}, at step {final_step}");
    assert!(!coda.audio_path(id).exists());
    let row = coda.ledger().get(id).await.unwrap().unwrap();
    assert_eq!(row.status, JobStatus::Canceled);
    assert!(row.compute_seconds.unwrap() > 0.0);
    worker.stop().await;
    cleanup(&coda).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_canceled_queued_job_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |_| {}).await;
    let doomed = coda.submit(params(1.0), "e2e").await.unwrap();
    let after = coda.submit(params(1.0), "e2e").await.unwrap();
    coda.cancel(doomed.view.id, &doomed.cancel_token)
        .await
        .unwrap();
    let worker = start_worker(&coda);
    assert_eq!(
        until_final(&coda, after.view.id, 120).await.status,
        JobStatus::Succeeded
    );
    let v = view(&coda, doomed.view.id).await;
    assert_eq!(
        (v.status, v.attempts, v.started_at),
        (JobStatus::Canceled, 0, None)
    );
    assert!(!coda.audio_path(doomed.view.id).exists());
    worker.stop().await;
    cleanup(&coda).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_jobs_survive_a_worker_restart() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |_| {}).await;
    let first = start_worker(&coda);
    eventually(120, "the worker to be alive", || async {
        (coda.queue().await.unwrap().workers_alive == 1).then_some(())
    })
    .await;
    first.stop().await;
    let id = coda.submit(params(1.0), "e2e").await.unwrap().view.id;
    let v = view(&coda, id).await;
    assert_eq!((v.status, v.position), (JobStatus::Queued, Some(1)));
    let second = start_worker(&coda);
    assert_eq!(
        until_final(&coda, id, 120).await.status,
        JobStatus::Succeeded
    );
    second.stop().await;
    cleanup(&coda).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_whose_worker_dies_runs_again_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |_| {}).await;
    let id = coda.submit(params(20.0), "e2e").await.unwrap().view.id;
    let (v, second) = crash_mid_job_then_restart(&coda, id).await;
    assert_eq!(v.status, JobStatus::Succeeded);
    assert_eq!(v.attempts, 2, "the crash counted as an attempt");
    second.stop().await;
    cleanup(&coda).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_that_keeps_killing_its_worker_is_failed_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |w| w.max_attempts = 1).await;
    let id = coda.submit(params(20.0), "e2e").await.unwrap().view.id;
    let (v, second) = crash_mid_job_then_restart(&coda, id).await;
    assert_eq!(v.status, JobStatus::Failed);
    assert!(
        v.error
            .as_deref()
            .unwrap()
            .contains("gave up after 1 attempts"),
        "{:?}",
        v.error
    );
    assert_eq!(
        coda.ledger().get(id).await.unwrap().unwrap().status,
        JobStatus::Failed
    );
    second.stop().await;
    cleanup(&coda).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_jobs_are_composed_together_and_a_cancel_leaves_the_others_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let coda = coda(&dir, |w| w.concurrency = 4).await;
    let mut jobs = Vec::new();
    for seconds in [60.0, 4.0, 5.0, 6.0] {
        jobs.push(coda.submit(params(seconds), "e2e").await.unwrap());
    }
    let ids: Vec<JobId> = jobs.iter().map(|j| j.view.id).collect();
    let worker = start_worker(&coda);
    // The page's "making 4 tracks together": every job reports the same pass.
    let ids_ref = &ids;
    let coda_ref = &coda;
    eventually(120, "four tracks composed together", || async move {
        for id in ids_ref {
            let together = view(coda_ref, *id).await.progress.map(|p| p.together);
            if together != Some(4) {
                return None;
            }
        }
        Some(())
    })
    .await;
    // Cancel the long one mid-way; the three short ones run on to their end.
    coda.cancel(ids[0], &jobs[0].cancel_token).await.unwrap();
    assert_eq!(
        until_final(&coda, ids[0], 30).await.status,
        JobStatus::Canceled
    );
    for (id, seconds) in ids[1..].iter().zip([4.0, 5.0, 6.0]) {
        let v = until_final(&coda, *id, 180).await;
        assert_eq!(v.status, JobStatus::Succeeded, "{:?}", v.error);
        let reader = hound::WavReader::open(coda.audio_path(*id)).unwrap();
        let length = reader.duration() as f64 / 32000.0;
        assert!(
            (length - seconds).abs() < 0.05,
            "asked {seconds} s, got {length} s"
        );
    }
    assert!(!coda.audio_path(ids[0]).exists());
    // Steps shared among four cost each job a quarter of them: its compute is below its wall time.
    let row = coda.ledger().get(ids[1]).await.unwrap().unwrap();
    let wall = (row.finished_ms.unwrap() - row.started_ms.unwrap()) as f64 / 1e3;
    assert!(row.compute_seconds.unwrap() < wall, "{row:?}");
    worker.stop().await;
    cleanup(&coda).await;
}
