use axum::http::StatusCode;

use crate::common::{valid_request, TestApp};

#[tokio::test]
async fn a_submission_is_accepted_with_its_location_and_place_in_line() {
    let app = TestApp::start().await;

    let response = app.submit(&valid_request()).await;

    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text());
    let body = response.json();
    let id = body["job"]["id"].as_str().expect("job id");
    assert_eq!(
        response.header("location"),
        Some(format!("/api/v1/jobs/{id}").as_str())
    );
    assert_eq!(body["job"]["status"], "queued");
    assert_eq!(body["job"]["position"], 1);
    assert_eq!(
        body["job"]["params"]["prompt"],
        "calm ambient pads with soft rain"
    );
    assert!(
        body["cancel_token"].as_str().is_some_and(|t| t.len() >= 16),
        "{body}"
    );

    let fetched = app.get(response.header("location").unwrap()).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json()["id"], id);
    assert_eq!(fetched.json()["position"], 1);
    assert!(
        fetched.json().get("cancel_token").is_none(),
        "the token is shown only once"
    );
}

#[tokio::test]
async fn three_submissions_wait_in_order() {
    let app = TestApp::start().await;

    let mut ids = Vec::new();
    for expected in 1..=3 {
        let response = app.submit(&valid_request()).await;
        assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text());
        assert_eq!(response.json()["job"]["position"], expected);
        ids.push(response.json()["job"]["id"].as_str().unwrap().to_owned());
    }

    for (index, id) in ids.iter().enumerate() {
        let view = app.get(&format!("/api/v1/jobs/{id}")).await.json();
        assert_eq!(view["position"], index + 1, "{view}");
        assert_eq!(view["jobs_ahead"], index, "{view}");
    }
    let queue = app.get("/api/v1/queue").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.json()["pending"], 3, "{}", queue.text());
}

#[tokio::test]
async fn defaults_are_filled_in_and_reported_back() {
    let app = TestApp::start().await;

    let view = app.submit(&valid_request()).await.json();

    let params = &view["job"]["params"];
    assert_eq!(params["top_k"], 250);
    assert_eq!(params["guidance_scale"], 3.0);
    assert!(
        params["seed"].is_u64(),
        "a random seed is chosen and shown: {params}"
    );
}

#[tokio::test]
async fn an_unknown_id_is_not_found() {
    let app = TestApp::start().await;

    let response = app
        .get(&format!("/api/v1/jobs/{}", ulid::Ulid::new()))
        .await;

    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.error(), ("job_not_found".into(), None));
}

#[tokio::test]
async fn a_malformed_id_is_refused_before_any_lookup() {
    let app = TestApp::start().await;

    for id in [
        "not-a-ulid",
        "..%2F..%2Fetc%2Fpasswd",
        "01JD6X1V9Q3ZK5T8N2M4P7R0S*",
        "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    ] {
        for suffix in ["", "/audio", "/events"] {
            let response = app.get(&format!("/api/v1/jobs/{id}{suffix}")).await;
            assert_eq!(
                response.status,
                StatusCode::BAD_REQUEST,
                "{id}{suffix}: {}",
                response.text()
            );
            assert_eq!(
                response.error(),
                ("invalid_id".into(), Some("id".into())),
                "{id}{suffix}"
            );
        }
    }
}

#[tokio::test]
async fn history_lists_newest_first_in_pages() {
    let app = TestApp::start().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.submit_ok().await.0);
    }

    let first = app.get("/api/v1/jobs?limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let first = first.json();
    let listed: Vec<_> = first["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, vec![ids[2].clone(), ids[1].clone()]);

    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .get(&format!("/api/v1/jobs?limit=2&cursor={cursor}"))
        .await
        .json();
    let listed: Vec<_> = second["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, vec![ids[0].clone()]);
    assert!(second["next_cursor"].is_null(), "{second}");
}

#[tokio::test]
async fn history_refuses_a_bad_page_size() {
    let app = TestApp::start().await;

    for query in ["limit=0", "limit=101", "limit=many", "limit=-1"] {
        let response = app.get(&format!("/api/v1/jobs?{query}")).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            response.text()
        );
        assert_eq!(
            response.error(),
            ("invalid_query".into(), Some("limit".into())),
            "{query}"
        );
    }
}
