//! The real server on a port: client addresses reach the limits, and shutdown is graceful even
//! with an event stream open.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{valid_request, TestApp};

async fn raw_request(addr: std::net::SocketAddr, request: String) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads until the end of the response head and returns it.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "connection closed mid-head"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn serving_stops_gracefully_with_an_event_stream_open() {
    let app = TestApp::start().await;
    let (id, _) = app.submit_ok().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let web_dir = std::env::temp_dir();
    let server = tokio::spawn(coda_api::serve(
        app.coda.clone(),
        listener,
        coda_api::ApiOptions {
            web_dir,
            ..Default::default()
        },
        async {
            let _ = stopped.await;
        },
    ));

    let body = valid_request().to_string();
    let post = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut submitted = raw_request(addr, post).await;
    assert!(
        read_head(&mut submitted).await.starts_with("HTTP/1.1 202"),
        "a real client is admitted"
    );

    let mut events = raw_request(
        addr,
        format!("GET /api/v1/jobs/{id}/events HTTP/1.1\r\nhost: t\r\n\r\n"),
    )
    .await;
    let head = read_head(&mut events).await;
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"),
        "{head}"
    );

    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("shutdown does not wait on the stream");
    result.unwrap().expect("server stopped cleanly");
}
