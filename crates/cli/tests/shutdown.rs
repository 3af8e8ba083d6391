//! SIGTERM to `coda up` mid-job: it stops taking requests at once, and the running job is never
//! lost: it finishes within `worker.shutdown_timeout_seconds`, or runs again on the next start.

mod common;

use std::time::Instant;

use common::{http, job, submit, submit_clip, until, until_status, Env};
use serde_json::json;

async fn until_composing(client: &reqwest::Client, base: &str, id: &str) {
    until(60, "the job to be composing", || async {
        let view = job(client, base, id).await;
        (view["progress"]["step"].as_u64().unwrap_or(0) > 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_running_job_finish_and_refuses_new_work() {
    let env = Env::new();
    let (mut up, base) = env.up().await;
    let client = http();

    let id = submit_clip(&client, &base, "finish me", 6.0).await;
    until_composing(&client, &base, &id).await;
    up.signal("TERM");
    up.wait_log("http shutting down", 10, |_| true).await;
    let refused = client
        .post(format!("{base}/api/v1/jobs"))
        .json(&json!({"prompt": "too late", "duration_seconds": 1}))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a stopping server must not take jobs: {refused:?}"
    );

    let status = up.wait_exit(30).await;
    assert!(status.success(), "clean exit: {status}");
    assert!(
        env.audio_dir().join(format!("{id}.wav")).is_file(),
        "the job finished before exit"
    );

    // The next start reports it as done.
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    let view = job(&client, &base, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["attempts"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_cut_off_by_the_shutdown_timeout_runs_again_on_the_next_start() {
    let mut env = Env::new();
    env.set("CODA_WORKER__SHUTDOWN_TIMEOUT_SECONDS", "1");
    let (mut up, base) = env.up().await;
    let client = http();

    // ~15 s of audio: a few seconds of work, longer than the 1 s the shutdown waits.
    let id = submit_clip(&client, &base, "cut off", 15.0).await;
    until_composing(&client, &base, &id).await;
    let asked = Instant::now();
    up.signal("TERM");
    up.wait_exit(30).await;
    let stopped = asked.elapsed();
    assert!(stopped.as_secs() < 10, "stopping took {stopped:?}");
    assert!(!env.audio_dir().join(format!("{id}.wav")).exists());

    let (_again, base) = env.up().await;
    let (status, _) = submit(
        &client,
        &base,
        json!({"prompt": "x", "duration_seconds": 1}),
    )
    .await;
    assert_eq!(status, 202, "the restarted service takes jobs");
    let view = until_status(&client, &base, &id, &["succeeded", "failed"], 90).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(
        view["attempts"], 2,
        "the cut-off run counts as an attempt: {view}"
    );
}
