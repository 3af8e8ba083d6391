//! 300 submissions at once against `coda api`: every answer is an admission (202) or a refusal
//! with the error shape and a `Retry-After` (429 per client, 503 queue full); the server stays
//! up and its memory stays bounded.

mod common;

use std::collections::BTreeMap;

use common::{get_json, http, Env};
use serde_json::json;

const REQUESTS: usize = 300;
/// Far above what a few hundred small requests should need; catches a leak or a blow-up.
const MAX_PEAK_RSS: u64 = 512 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_beyond_the_queue_cap_gets_503_queue_full() {
    let mut env = Env::new();
    env.set("CODA_QUEUE__MAX_PENDING", "60")
        .set("CODA_QUEUE__MAX_PENDING_PER_CLIENT", "100");
    let by_status = flood(&env, 60).await;
    assert_eq!(by_status.get(&503), Some(&240), "{by_status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_from_one_client_gets_429_beyond_its_share() {
    let env = Env::new();
    let by_status = flood(&env, 5).await;
    assert_eq!(by_status.get(&429), Some(&295), "{by_status:?}");
}

/// Fires the flood and checks every answer; returns the count per status.
async fn flood(env: &Env, admitted: u64) -> BTreeMap<u16, u64> {
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    let before = api.memory();
    let client = http();

    let answers = futures_like_join_all((0..REQUESTS).map(|i| {
        let client = client.clone();
        let url = format!("{base}/api/v1/jobs");
        async move {
            let r = client
                .post(url)
                .json(&json!({"prompt": format!("flood {i}"), "duration_seconds": 1}))
                .send()
                .await
                .expect("the server answers every request");
            let status = r.status().as_u16();
            let retry_after = r.headers().get("retry-after").is_some();
            let body: serde_json::Value = r.json().await.expect("a JSON body");
            (status, retry_after, body)
        }
    }))
    .await;

    let mut by_status: BTreeMap<u16, u64> = BTreeMap::new();
    for (status, retry_after, body) in &answers {
        *by_status.entry(*status).or_insert(0) += 1;
        match status {
            202 => assert!(body["job"]["id"].is_string(), "{body}"),
            429 | 503 => {
                assert!(*retry_after, "{status} without Retry-After: {body}");
                let code = body["error"]["code"].as_str().unwrap_or_default();
                assert!(
                    ["client_limit", "queue_full", "unavailable"].contains(&code),
                    "{status}: {body}"
                );
                assert!(body["error"]["message"].is_string(), "{body}");
                assert!(
                    body["error"]["retry_after_seconds"].as_u64() >= Some(1),
                    "{body}"
                );
                if code == "queue_full" {
                    let wait = &body["error"]["expected_wait_seconds"];
                    assert!(wait["low"].as_f64() <= wait["high"].as_f64(), "{body}");
                    assert!(
                        wait["high"].as_f64().is_some(),
                        "a full queue says how long: {body}"
                    );
                }
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let after = api.memory();
    println!(
        "flood of {REQUESTS}: {by_status:?}; api RSS {} MiB before, {} MiB after, peak (VmHWM) {} MiB",
        before.rss >> 20,
        after.rss >> 20,
        after.hwm >> 20
    );
    assert_eq!(
        by_status.get(&202),
        Some(&admitted),
        "exactly the cap admitted: {by_status:?}"
    );
    assert!(after.hwm < MAX_PEAK_RSS, "peak RSS {} MiB", after.hwm >> 20);

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "still up");
    let queue = get_json(&client, &format!("{base}/api/v1/queue")).await;
    assert_eq!(queue["pending"], admitted, "{queue}");
    by_status
}

/// All futures at once (no `futures` dependency needed for one call).
async fn futures_like_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("request task"));
    }
    out
}
