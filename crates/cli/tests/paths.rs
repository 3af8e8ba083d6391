//! Paths that try to leave the api's routes reach neither Redis nor the file system, whatever
//! encoding they use. Sent raw: an HTTP client would normalise them away.

mod common;

use common::Env;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn traversal_paths_are_refused_and_never_serve_a_file() {
    let env = Env::new();
    let mut api = env.spawn("api");
    let base = api.base_url().await;
    for path in [
        "/api/v1/jobs/..%2F..%2Fetc%2Fpasswd/audio",
        "/api/v1/jobs/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/events",
        "/api/v1/jobs/../../../../etc/passwd",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2F..%2F..%2Fetc%2Fpasswd",
    ] {
        let (status, answer) = raw_get(&base, path).await;
        assert!(!answer.contains("root:"), "{path} served a system file");
        assert!(
            [400, 404].contains(&status),
            "{path} answered {status}: {answer}"
        );
    }
}
