//! `worker.memory_budget`: a budget in which not even one job fits, or a concurrency whose batch
//! could never fill, is refused at start, and the message names the keys.

mod common;

use common::Env;

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_below_one_job_is_refused_at_start() {
    let mut env = Env::new();
    env.set("CODA_WORKER__CONCURRENCY", "4")
        .set("CODA_WORKER__MEMORY_BUDGET", "1MiB");
    let mut worker = env.spawn("worker");
    let status = worker.wait_exit(120).await;
    assert!(!status.success());
    let log = worker.log_text();
    assert!(log.contains("worker.memory_budget is 1.0 MiB"), "{log}");
    assert!(log.contains("not even one job fits"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concurrency_that_could_never_fill_its_batch_is_refused_at_start() {
    // Measure the model first, then give it room for one longest job and half way to sixteen
    // of 1 s (a margin either side for the resident size measured again at the next start).
    let mut env = Env::new();
    env.set("CODA_WORKER__MEMORY_BUDGET", "64GiB");
    let mut probe = env.spawn("worker");
    let loaded = probe.wait_log("model loaded", 120, |_| true).await;
    probe.kill9();
    let model = loaded["model_bytes"].as_u64().unwrap();
    let longest = loaded["per_job_bytes"].as_u64().unwrap();
    let shortest = loaded["shortest_job_bytes"].as_u64().unwrap();
    let concurrency = 16;
    assert!(concurrency * shortest > 2 * longest, "{loaded}");
    let budget = model + longest + (concurrency * shortest - longest) / 2;
    env.set("CODA_WORKER__CONCURRENCY", &concurrency.to_string())
        .set("CODA_WORKER__MEMORY_BUDGET", &budget.to_string());
    let mut worker = env.spawn("worker");
    let status = worker.wait_exit(120).await;
    assert!(!status.success());
    let log = worker.log_text();
    assert!(
        log.contains(&format!("worker.concurrency = {concurrency} can never run")),
        "{log}"
    );
    assert!(log.contains("worker.memory_budget"), "{log}");
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
