//! Redis goes away under a running api and worker, then comes back: the api answers 503 with
//! the error shape while it is gone and says why on `/readyz`; both recover without a restart.

mod common;

use common::{http, submit, until, until_status, Env, PrivateRedis};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn api_and_worker_ride_out_a_redis_restart() {
    let mut redis = PrivateRedis::start();
    let mut env = Env::new();
    env.set("CODA_REDIS__URL", &redis.url());
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    let mut worker = env.spawn("worker");
    worker.worker_started().await;
    let client = http();

    let before = common::submit_ok(
        &client,
        &base,
        json!({"prompt": "before", "duration_seconds": 1}),
    )
    .await;
    until_status(&client, &base, &before, &["succeeded"], 60).await;

    let running = common::submit_ok(
        &client,
        &base,
        json!({"prompt": "across", "duration_seconds": 12}),
    )
    .await;
    until(60, "the job to be composing", || async {
        let view = common::job(&client, &base, &running).await;
        (view["progress"]["step"].as_u64().unwrap_or(0) > 0).then_some(())
    })
    .await;
    redis.stop();

    let (status, body) = submit(
        &client,
        &base,
        json!({"prompt": "during", "duration_seconds": 1}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{body}"
    );

    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "not_ready");
    assert!(
        ready["reason"].as_str().unwrap().starts_with("redis"),
        "{ready}"
    );

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "liveness does not depend on Redis"
    );

    // The outage lasts until the worker's job slot, busy with the running job, has died of it
    // (apalis ends a worker on any backend error; the monitor restarts it).
    worker
        .wait_log("job slot stopped; restarting it", 30, |_| true)
        .await;

    redis.restart();

    until(30, "/readyz to say ready again", || async {
        let r = client.get(format!("{base}/readyz")).send().await.ok()?;
        (r.status().as_u16() == 200).then_some(())
    })
    .await;
    // The same worker process picks up new work: nobody restarted it.
    let after = until(30, "a submission to be accepted again", || async {
        let (status, body) = submit(
            &client,
            &base,
            json!({"prompt": "after", "duration_seconds": 1}),
        )
        .await;
        (status == 202).then(|| body["job"]["id"].as_str().unwrap().to_string())
    })
    .await;
    let across = until_status(&client, &base, &running, &["succeeded", "failed"], 60).await;
    // Its slot died with the outage: it was re-queued and ran again, counted as an attempt.
    assert_eq!(across["status"], "succeeded", "{across}");
    assert!(across["attempts"].as_u64().unwrap() >= 1, "{across}");
    let done = until_status(&client, &base, &after, &["succeeded", "failed"], 60).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let leftovers: Vec<_> = std::fs::read_dir(env.audio_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".wav"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    assert!(
        std::process::Command::new("kill")
            .arg("-0")
            .arg(worker.pid().to_string())
            .status()
            .unwrap()
            .success(),
        "the worker process is still the original one"
    );
}
