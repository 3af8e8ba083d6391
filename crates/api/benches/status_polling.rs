//! How fast the api answers `GET /api/v1/jobs/{id}` with 1,000 jobs queued and no worker: the
//! position and ETA of each answer come from one Lua script over the queue, so the cost may
//! grow with the job's place in line. Prints requests/s and p50/p99 latency per position.
//!
//!   cargo bench -p coda-api --bench status_polling
//!   POLL_SECONDS=10 POLL_CLIENTS=32 REDIS_URL=redis://127.0.0.1:6379 cargo bench -p coda-api --bench status_polling
//!
//! The load generator shares the machine (and the process) with the server: figures are a floor.

use std::time::{Duration, Instant};

use coda_jobs::{Coda, GenerationRequest, Settings};

const JOBS: usize = 1000;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let seconds: u64 = env_or("POLL_SECONDS", 5);
    let clients: usize = env_or("POLL_CLIENTS", 16);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::default();
    settings.redis.url = env_or("REDIS_URL", settings.redis.url.clone());
    settings.redis.namespace = format!("bench-{}", ulid::Ulid::new());
    settings.storage.dir = dir.path().to_path_buf();
    settings.queue.max_pending = JOBS;
    settings.queue.max_pending_per_client = JOBS;
    let coda = Coda::connect(&settings)
        .await
        .expect("Redis and the ledger");

    let mut ids = Vec::with_capacity(JOBS);
    for i in 0..JOBS {
        let params = GenerationRequest {
            prompt: format!("bench job {i}"),
            duration_seconds: 10.0,
            top_k: None,
            top_p: None,
            temperature: None,
            guidance_scale: None,
            seed: Some(i as u64),
        }
        .validate(&settings.limits)
        .expect("valid");
        ids.push(
            coda.submit(params, "bench")
                .await
                .expect("admitted")
                .view
                .id,
        );
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(coda_api::serve(
        coda.clone(),
        listener,
        coda_api::ApiOptions {
            web_dir: dir.path().join("web"),
            ..Default::default()
        },
        async move {
            let _ = stop_rx.await;
        },
    ));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    println!(
        "{JOBS} jobs queued, no worker; {clients} concurrent clients, {seconds} s per position"
    );
    println!(
        "{:>9} {:>10} {:>9} {:>9} {:>9}",
        "position", "requests", "req/s", "p50 ms", "p99 ms"
    );
    for position in [1, 100, 500, 1000] {
        let url = format!("http://{addr}/api/v1/jobs/{}", ids[position - 1]);
        let check: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(check["position"], position as u64, "{check}");
        let (count, mut latencies) =
            hammer(&client, &url, clients, Duration::from_secs(seconds)).await;
        latencies.sort_unstable();
        let pct =
            |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
        println!(
            "{position:>9} {count:>10} {:>9.0} {:>9.2} {:>9.2}",
            count as f64 / seconds as f64,
            pct(0.50),
            pct(0.99)
        );
    }

    let _ = stop_tx.send(());
    let _ = server.await;
    clean_up(&settings).await;
}

/// `clients` loops polling `url` for `span`; returns the answer count and every latency.
async fn hammer(
    client: &reqwest::Client,
    url: &str,
    clients: usize,
    span: Duration,
) -> (usize, Vec<Duration>) {
    let deadline = Instant::now() + span;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let url = url.to_string();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let response = client.get(&url).send().await.expect("answer");
                    assert!(response.status().is_success(), "{}", response.status());
                    let _ = response.bytes().await.expect("body");
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len(), all)
}

async fn clean_up(settings: &Settings) {
    let client = redis::Client::open(settings.redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", settings.redis.namespace))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}
