//! A router over real Redis (a fresh key namespace) and a SQLite ledger in a temp dir, driven in
//! process with `oneshot`. No worker runs, so submitted jobs stay queued.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use coda_api::{install_metrics_recorder, router, ApiOptions, AppState};
use coda_jobs::{Coda, Settings};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt;

pub const INDEX_HTML: &str = "<!doctype html><title>Coda test page</title>";

pub struct TestApp {
    pub router: Router,
    pub coda: Coda,
    namespace: String,
    redis_url: String,
    _dir: TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the API's error shape and returns `(code, field)`.
    pub fn error(&self) -> (String, Option<String>) {
        let body = self.json();
        let error = body
            .get("error")
            .unwrap_or_else(|| panic!("no `error` object in {body}"));
        let message = error["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {body}"));
        assert!(!message.is_empty(), "empty message in {body}");
        let code = error["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_owned();
        (
            code,
            error
                .get("field")
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    }
}

pub fn valid_request() -> Value {
    json!({ "prompt": "calm ambient pads with soft rain", "duration_seconds": 4.0 })
}

impl TestApp {
    pub async fn start() -> Self {
        Self::with(|_, _| {}).await
    }

    pub async fn with(configure: impl FnOnce(&mut Settings, &mut ApiOptions)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let web_dir = dir.path().join("web");
        std::fs::create_dir_all(&web_dir).expect("web dir");
        std::fs::write(web_dir.join("index.html"), INDEX_HTML).expect("index.html");

        let mut settings = Settings::default();
        settings.redis.namespace = format!("coda-test-{}", ulid::Ulid::new());
        settings.storage.dir = dir.path().join("data");
        let mut options = ApiOptions {
            web_dir,
            ..ApiOptions::default()
        };
        options.http.events_poll_interval_ms = 20;
        configure(&mut settings, &mut options);
        settings.validate().expect("test settings are valid");
        options.validate().expect("test options are valid");

        let coda = Coda::connect(&settings)
            .await
            .expect("Redis and SQLite reachable");
        let state = AppState::new(coda.clone(), install_metrics_recorder(), options);
        TestApp {
            router: router(state),
            coda,
            namespace: settings.redis.namespace.clone(),
            redis_url: settings.redis.url.clone(),
            _dir: dir,
        }
    }

    /// Sends `request` as if from `client` (its address is what per-client limits count).
    pub async fn send_from(&self, client: [u8; 4], mut request: Request<Body>) -> TestResponse {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((client, 40000))));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        self.send_from([127, 0, 0, 1], request).await
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn submit(&self, body: &Value) -> TestResponse {
        self.submit_from([127, 0, 0, 1], body).await
    }

    pub async fn submit_from(&self, client: [u8; 4], body: &Value) -> TestResponse {
        self.send_from(
            client,
            json_request(Method::POST, "/api/v1/jobs", body.to_string()),
        )
        .await
    }

    /// Submits a valid job and returns `(id, cancel_token)`.
    pub async fn submit_ok(&self) -> (String, String) {
        let response = self.submit(&valid_request()).await;
        assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text());
        let body = response.json();
        (
            body["job"]["id"].as_str().unwrap().to_owned(),
            body["cancel_token"].as_str().unwrap().to_owned(),
        )
    }
}

pub fn json_request(method: Method, uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

impl Drop for TestApp {
    /// Leaves Redis as it was: every key of this test's namespace goes.
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.redis_url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let pattern = format!("{}*", self.namespace);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}
