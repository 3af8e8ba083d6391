//! Finished jobs' audio and live state expire after `storage.retention_seconds`; the ledger
//! keeps the row, so the job still reads as succeeded while its audio answers 410.

mod common;

use common::{http, job, submit_clip, until, until_status, Env};

#[tokio::test(flavor = "multi_thread")]
async fn audio_expires_after_the_retention_and_the_job_is_still_known() {
    let mut env = Env::new();
    env.set("CODA_STORAGE__RETENTION_SECONDS", "2");
    let (mut up, base) = env.up().await;
    let client = http();

    let id = submit_clip(&client, &base, "short lived", 1.0).await;
    until_status(&client, &base, &id, &["succeeded"], 60).await;
    let audio = format!("{base}/api/v1/jobs/{id}/audio");
    let wav = env.audio_dir().join(format!("{id}.wav"));
    // The audio can be fetched right after the job finished...
    let first = client.get(&audio).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);

    // ...and is gone a few seconds later: the clean-up runs every second at this retention.
    let answer = until(20, "the audio to expire", || async {
        let r = client.get(&audio).send().await.ok()?;
        (r.status().as_u16() == 410).then_some(r)
    })
    .await;
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "audio_expired", "{body}");
    assert!(!wav.exists(), "the file is deleted");
    up.wait_log("deleted expired audio files", 20, |l| l["removed"] == 1)
        .await;

    let view = job(&client, &base, &id).await;
    assert_eq!(
        view["status"], "succeeded",
        "the ledger keeps the row: {view}"
    );
    assert!(
        view["accounting"]["compute_seconds"].as_f64().unwrap() > 0.0,
        "{view}"
    );
}
