//! What an operator sees of a job under `coda up`: Prometheus figures, per-job accounting in
//! the view, and one log line per transition naming the job.

mod common;

use common::{http, submit_clip, until_status, Env};

/// The value of the first sample line starting with `prefix` (name plus labels).
fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_job_shows_in_metrics_accounting_and_logs() {
    let mut env = Env::new();
    env.set("CODA_WORKER__DEVICE_WATTS", "300");
    let (up, base) = env.up().await;
    let client = http();

    let id = submit_clip(&client, &base, "measure me", 2.0).await;
    let view = until_status(&client, &base, &id, &["succeeded"], 60).await;
    let acc = &view["accounting"];
    let compute = acc["compute_seconds"].as_f64().unwrap();
    assert!(acc["queue_wait_seconds"].as_f64().unwrap() >= 0.0, "{acc}");
    assert_eq!(acc["audio_seconds"].as_f64(), Some(2.0), "{acc}");
    let rtf = acc["real_time_factor"].as_f64().unwrap();
    assert!((rtf - compute / 2.0).abs() < 1e-6, "{acc}");
    let energy = acc["energy_wh"].as_f64().unwrap();
    assert!((energy - 300.0 * compute / 3600.0).abs() < 1e-6, "{acc}");

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (prefix, want) in [
        ("coda_queue_pending ", Some(0.0)),
        ("coda_queue_running ", Some(0.0)),
        ("coda_workers_alive ", Some(1.0)),
        (
            "coda_jobs_finished_total{outcome=\"succeeded\",reason=\"completed\"}",
            Some(1.0),
        ),
        ("coda_job_wait_seconds_count", Some(1.0)),
        (
            "coda_job_run_seconds_count{outcome=\"succeeded\"}",
            Some(1.0),
        ),
        ("coda_decode_ms_per_step_count", Some(1.0)),
        ("coda_job_real_time_factor_count", Some(1.0)),
        // Alone: its steps were shared with nobody.
        ("coda_job_batch_jobs_count", Some(1.0)),
        ("coda_job_batch_jobs_sum", Some(1.0)),
        ("coda_ms_per_step_average", None),
        ("coda_expected_wait_seconds", None),
    ] {
        let value = sample(&metrics, prefix);
        assert!(value.is_some(), "no {prefix} in:\n{metrics}");
        if let Some(want) = want {
            assert_eq!(value, Some(want), "{prefix} in:\n{metrics}");
        }
    }
    assert!(
        metrics.contains("coda_job_real_time_factor_bucket{le=\"1\"}"),
        "histograms have buckets:\n{metrics}"
    );

    // One line per transition, each naming the job.
    let logs = up.logs();
    let mentions = |message: &str| {
        logs.iter()
            .filter(|l| {
                l["message"] == message && (l["job"] == id.as_str() || l["id"] == id.as_str())
            })
            .count()
    };
    assert_eq!(mentions("job queued"), 1);
    assert_eq!(mentions("job started"), 1);
    assert_eq!(mentions("job succeeded"), 1);
}
