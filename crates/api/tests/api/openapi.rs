use axum::http::StatusCode;
use serde_json::Value;

use crate::common::TestApp;

#[tokio::test]
async fn the_document_is_served_and_matches_the_snapshot() {
    let app = TestApp::start().await;

    let response = app.get("/api/openapi.json").await;

    assert_eq!(response.status, StatusCode::OK);
    let served = response.json();
    assert_eq!(
        served,
        serde_json::to_value(coda_api::openapi()).unwrap(),
        "served = generated"
    );
    insta::assert_json_snapshot!("openapi", served);
}

#[test]
fn every_error_status_has_an_example_body() {
    let doc = serde_json::to_value(coda_api::openapi()).unwrap();
    let components = &doc["components"]["responses"];
    let mut checked = 0;
    // The probes answer their own small shape, documented with examples of its own.
    let api_paths = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/api/"));
    for (path, item) in api_paths {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                let response = match response["$ref"].as_str() {
                    Some(reference) => &components[reference.rsplit('/').next().unwrap()],
                    None => response,
                };
                let Some(json) = response["content"].get("application/json") else {
                    assert_eq!(status, "416", "{method} {path} {status} has no JSON body");
                    continue;
                };
                let examples: Vec<&Value> = match json.get("example") {
                    Some(example) => vec![example],
                    None => json["examples"]
                        .as_object()
                        .map(|m| m.values().map(|e| &e["value"]).collect())
                        .unwrap_or_default(),
                };
                assert!(
                    !examples.is_empty(),
                    "{method} {path} {status} has no example"
                );
                for example in examples {
                    assert!(
                        example["error"]["code"].is_string(),
                        "{method} {path} {status}: {example}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} error responses documented");
}
