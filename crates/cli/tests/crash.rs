//! A worker process killed with `kill -9` mid-job: its job runs again on another worker, the
//! crash counts as an attempt, and a job that kills its worker every time is failed for good.

mod common;

use std::time::Instant;

use common::{get_json, http, job, submit_ok, until, until_status, Env};
use serde_json::json;

/// 12 s of audio: ~600 decoding steps, a couple of seconds for the tiny model.
fn long_job() -> serde_json::Value {
    json!({"prompt": "a slow crash test", "duration_seconds": 12, "seed": 7})
}

/// Waits until the job runs and has made some progress.
async fn until_composing(client: &reqwest::Client, base: &str, id: &str) -> serde_json::Value {
    until(60, "the job to be composing", || async {
        let view = job(client, base, id).await;
        let step = view["progress"]["step"].as_u64().unwrap_or(0);
        (view["status"] == "running" && step > 0).then_some(view)
    })
    .await
}

async fn kill_and_recover(heartbeat_seconds: u64) {
    let mut env = Env::new();
    env.set(
        "CODA_WORKER__HEARTBEAT_SECONDS",
        &heartbeat_seconds.to_string(),
    );
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    let client = http();
    let mut a = env.spawn("worker");
    a.worker_started().await;

    let id = submit_ok(&client, &base, long_job()).await;
    let running = until_composing(&client, &base, &id).await;
    assert_eq!(running["attempts"], 1);
    a.kill9();
    let killed = Instant::now();

    let mut b = env.spawn("worker");
    b.worker_started().await;
    let restarted = until(60, "the job to run again", || async {
        let view = job(&client, &base, &id).await;
        (view["status"] == "running" && view["attempts"] == 2).then(|| killed.elapsed())
    })
    .await;
    let done = until_status(&client, &base, &id, &["succeeded", "failed"], 60).await;
    let recovered = killed.elapsed();
    println!(
        "heartbeat {heartbeat_seconds} s: job claimed again {:.1} s after kill -9, succeeded {:.1} s after it",
        restarted.as_secs_f64(),
        recovered.as_secs_f64()
    );
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["attempts"], 2,
        "the crash counts as an attempt: {done}"
    );
    // Orphans are re-enqueued after two missed heartbeats; allow slack for loading the model.
    assert!(
        restarted.as_secs() <= 4 * heartbeat_seconds + 10,
        "re-enqueue took {restarted:?}"
    );

    // The result was written once, atomically: one WAV, no temp file, and it plays.
    let names: Vec<String> = std::fs::read_dir(env.audio_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![format!("{id}.wav")]);
    let wav = hound::WavReader::open(env.audio_dir().join(format!("{id}.wav"))).unwrap();
    let seconds = wav.duration() as f64 / f64::from(wav.spec().sample_rate);
    assert!((seconds - 12.0).abs() < 0.1, "{seconds} s of audio");

    // Worker B logged the job it ran by id.
    let b_logs = b.logs();
    assert!(
        b_logs
            .iter()
            .any(|l| l["message"] == "job succeeded" && l["id"] == id.as_str()),
        "worker B logs: {}",
        b.log_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_is_killed_succeeds_on_another_worker() {
    kill_and_recover(1).await;
}

/// The production heartbeat (5 s, two missed): prints the recovery time an operator will see.
/// `cargo test -p coda --test crash -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "takes ~25 s; run to measure recovery with the default heartbeat"]
async fn recovery_time_with_the_default_heartbeat() {
    kill_and_recover(5).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_kills_its_worker_every_time_is_failed_after_max_attempts() {
    let mut env = Env::new();
    env.set("CODA_WORKER__MAX_ATTEMPTS", "2");
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    let client = http();

    let id = submit_ok(&client, &base, long_job()).await;
    for attempt in 1..=2 {
        let mut w = env.spawn("worker");
        w.worker_started().await;
        let view = until(60, "the job to be composing again", || async {
            let view = job(&client, &base, &id).await;
            let step = view["progress"]["step"].as_u64().unwrap_or(0);
            (view["status"] == "running" && view["attempts"] == attempt && step > 0).then_some(view)
        })
        .await;
        assert_eq!(view["attempts"], attempt);
        w.kill9();
    }
    let mut last = env.spawn("worker");
    last.worker_started().await;
    let done = until_status(&client, &base, &id, &["failed", "succeeded"], 60).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("2 attempts"),
        "the reason names the attempts: {error}"
    );
    assert!(
        !env.audio_dir().join(format!("{id}.wav")).exists(),
        "a failed job leaves no audio"
    );
    // The ledger agrees once the live state is gone: history lists it as failed too.
    let history = get_json(&client, &format!("{base}/api/v1/jobs")).await;
    let row = history["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id.as_str())
        .cloned()
        .expect("job in history");
    assert_eq!(row["status"], "failed");
    // The next job is served normally by the same worker.
    let next = submit_ok(
        &client,
        &base,
        json!({"prompt": "after", "duration_seconds": 1}),
    )
    .await;
    let view = until_status(&client, &base, &next, &["succeeded", "failed"], 60).await;
    assert_eq!(view["status"], "succeeded");
}

/// A worker killed while it composes a batch: every job of the batch runs again on the next
/// worker and each result is written once.
#[tokio::test(flavor = "multi_thread")]
async fn every_job_of_a_killed_workers_batch_runs_again_and_is_written_once() {
    let mut env = Env::new();
    env.set("CODA_WORKER__HEARTBEAT_SECONDS", "1");
    env.set("CODA_WORKER__CONCURRENCY", "3");
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    let client = http();
    let mut a = env.spawn("worker");
    a.worker_started().await;

    let mut ids = Vec::new();
    for seed in 1..=3 {
        let body = json!({"prompt": "a batch crash test", "duration_seconds": 12, "seed": seed});
        ids.push(submit_ok(&client, &base, body).await);
    }
    until(60, "the three jobs to be composed together", || async {
        for id in &ids {
            let view = job(&client, &base, id).await;
            if view["progress"]["together"] != 3 {
                return None;
            }
        }
        Some(())
    })
    .await;
    a.kill9();

    let mut b = env.spawn("worker");
    b.worker_started().await;
    for id in &ids {
        let done = until_status(&client, &base, id, &["succeeded", "failed"], 120).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(
            done["attempts"], 2,
            "the crash counts as an attempt: {done}"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(env.audio_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = ids.iter().map(|id| format!("{id}.wav")).collect();
    want.sort();
    assert_eq!(names, want, "one WAV per job, no temp files");
}
