//! `worker.memory_budget`: a concurrency the measured model does not fit is refused at start,
//! and the message names both keys.

mod common;

use common::Env;

#[tokio::test(flavor = "multi_thread")]
async fn a_concurrency_that_does_not_fit_the_budget_is_refused_at_start() {
    let mut env = Env::new();
    env.set("CODA_WORKER__CONCURRENCY", "4")
        .set("CODA_WORKER__MEMORY_BUDGET", "1MiB");
    let mut worker = env.spawn("worker");
    let status = worker.wait_exit(120).await;
    assert!(!status.success());
    let log = worker.log_text();
    assert!(log.contains("worker.concurrency = 4"), "{log}");
    assert!(log.contains("worker.memory_budget is 1.0 MiB"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_that_fits_starts_and_reports_the_measured_footprint() {
    let mut env = Env::new();
    env.set("CODA_WORKER__CONCURRENCY", "2")
        .set("CODA_WORKER__MEMORY_BUDGET", "64GiB");
    let mut worker = env.spawn("worker");
    let loaded = worker.wait_log("model loaded", 120, |_| true).await;
    let model_bytes = loaded["model_bytes"].as_u64().unwrap();
    let per_job = loaded["per_job_bytes"].as_u64().unwrap();
    println!("tiny model: {model_bytes} B resident, {per_job} B per 60 s job");
    assert!(model_bytes > 0, "the load is measured: {loaded}");
    assert!(per_job > 0, "{loaded}");
    worker.worker_started().await;
}
