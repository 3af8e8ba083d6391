use axum::http::{Method, StatusCode};

use crate::common::{json_request, valid_request, TestApp};

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after_and_the_expected_wait() {
    let app = TestApp::with(|settings, _| {
        settings.queue.max_pending = 2;
        settings.queue.max_pending_per_client = 2;
    })
    .await;
    for client in [[10, 0, 0, 1], [10, 0, 0, 2]] {
        assert_eq!(
            app.submit_from(client, &valid_request()).await.status,
            StatusCode::ACCEPTED
        );
    }

    let response = app.submit_from([10, 0, 0, 3], &valid_request()).await;

    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.text()
    );
    assert_eq!(response.error().0, "queue_full");
    let retry_after: u64 = response
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body = response.json();
    assert_eq!(body["error"]["retry_after_seconds"], retry_after);
    let wait = &body["error"]["expected_wait_seconds"];
    assert!(
        wait["low"].as_f64().unwrap() <= wait["high"].as_f64().unwrap(),
        "{body}"
    );
}

#[tokio::test]
async fn one_client_cannot_hold_more_than_its_share() {
    let app = TestApp::with(|settings, _| settings.queue.max_pending_per_client = 2).await;
    let greedy = [10, 0, 0, 7];
    for _ in 0..2 {
        assert_eq!(
            app.submit_from(greedy, &valid_request()).await.status,
            StatusCode::ACCEPTED
        );
    }

    let refused = app.submit_from(greedy, &valid_request()).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text()
    );
    assert_eq!(refused.error().0, "client_limit");
    assert!(refused
        .header("retry-after")
        .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));

    let someone_else = app.submit_from([10, 0, 0, 8], &valid_request()).await;
    assert_eq!(
        someone_else.status,
        StatusCode::ACCEPTED,
        "{}",
        someone_else.text()
    );
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let submit_as = |forwarded: &'static str| {
        let mut request = json_request(Method::POST, "/api/v1/jobs", valid_request().to_string());
        request
            .headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        request
    };

    let untrusting = TestApp::with(|settings, _| settings.queue.max_pending_per_client = 1).await;
    assert_eq!(
        untrusting.send(submit_as("198.51.100.1")).await.status,
        StatusCode::ACCEPTED
    );
    let spoofed = untrusting.send(submit_as("198.51.100.2")).await;
    assert_eq!(
        spoofed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a spoofed header must not dodge the limit"
    );

    let behind_proxy = TestApp::with(|settings, options| {
        settings.queue.max_pending_per_client = 1;
        options.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    assert_eq!(
        behind_proxy.send(submit_as("198.51.100.1")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        behind_proxy.send(submit_as("198.51.100.2")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        behind_proxy.send(submit_as("198.51.100.2")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Behind the proxy, a client's own forged entry sits left of what the proxy appended.
    assert_eq!(
        behind_proxy
            .send(submit_as("203.0.113.9, 198.51.100.2"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged entry left of the proxy's must not dodge the limit"
    );

    let other_proxy = TestApp::with(|settings, options| {
        settings.queue.max_pending_per_client = 1;
        options.http.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    other_proxy.send(submit_as("198.51.100.1")).await;
    assert_eq!(
        other_proxy.send(submit_as("198.51.100.2")).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a peer outside http.trusted_proxies is counted by its own address"
    );
}
