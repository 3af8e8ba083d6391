//! Drives the real `coda` binary: processes with their own Redis namespace and data folder,
//! their JSON logs captured line by line (tests wait on a log line, never on a timer), a private
//! `redis-server` for fault tests, and a small HTTP client.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

/// Settings shared by every process of one test: a fresh namespace and data folder.
pub struct Env {
    pub dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    /// Short heartbeats and polling so that crash detection fits in a test's time.
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let namespace = format!("clitest-{}", ulid_like());
        let mut env = Env {
            dir,
            vars: Vec::new(),
        };
        let data = env.dir.path().display().to_string();
        env.set("CODA_REDIS__NAMESPACE", &namespace)
            .set("CODA_STORAGE__DIR", &data)
            .set("CODA_HTTP__ADDR", "127.0.0.1:0")
            .set("CODA_WORKER__HEARTBEAT_SECONDS", "1")
            .set("CODA_WORKER__POLL_INTERVAL_MS", "50")
            .set("CODA_LIMITS__MAX_DURATION_SECONDS", "60");
        env
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Env {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn audio_dir(&self) -> PathBuf {
        self.dir.path().join("audio")
    }

    /// `coda up` once its api listens and its worker takes jobs, and the api's base URL.
    pub async fn up(&self) -> (Proc, String) {
        let mut up = self.spawn("up");
        let base = up.base_url().await;
        up.worker_started().await;
        (up, base)
    }

    /// Starts `coda <role>` (`up`, `api`, `worker`) with JSON logs on stderr.
    pub fn spawn(&self, role: &str) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coda"));
        cmd.arg(role)
            .env("CODA_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("CODA_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("coda starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = watch::channel(0usize);
        let sink = lines.clone();
        let label = format!("{role}:{}", child.id());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if std::env::var_os("CODA_TEST_ECHO").is_some() {
                    eprintln!("[{label}] {line}");
                }
                sink.lock().unwrap().push(line);
                tx.send_modify(|n| *n += 1);
            }
            // Closing the channel wakes waiters: the process ended.
            drop(tx);
        });
        Proc {
            role: role.to_string(),
            child,
            lines,
            seen: rx,
            exited: None,
        }
    }
}

impl Drop for Env {
    /// Best-effort removal of this test's keys from the shared Redis.
    fn drop(&mut self) {
        let (Some(ns), url) = (
            self.get("CODA_REDIS__NAMESPACE"),
            self.get("CODA_REDIS__URL")
                .unwrap_or("redis://127.0.0.1:6379"),
        ) else {
            return;
        };
        let Ok(out) = Command::new("redis-cli")
            .args(["-u", url, "--scan", "--pattern", &format!("{ns}:*")])
            .output()
        else {
            return;
        };
        let keys: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        for chunk in keys.chunks(500) {
            let _ = Command::new("redis-cli")
                .args(["-u", url, "DEL"])
                .args(chunk)
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// A running `coda` process. Dropping it kills it.
pub struct Proc {
    pub role: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    seen: watch::Receiver<usize>,
    exited: Option<ExitStatus>,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every log line so far, as JSON where it parses.
    pub fn logs(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn log_text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits for a log line whose `message` is `message` and that satisfies `also`.
    pub async fn wait_log(
        &mut self,
        message: &str,
        secs: u64,
        also: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let found = self
                .logs()
                .into_iter()
                .find(|l| l["message"] == message && also(l));
            if let Some(line) = found {
                return line;
            }
            match tokio::time::timeout_at(deadline, self.seen.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => panic!(
                    "coda {} ended before logging {message:?}:\n{}",
                    self.role,
                    self.log_text()
                ),
                Err(_) => panic!(
                    "coda {} did not log {message:?} within {secs} s:\n{}",
                    self.role,
                    self.log_text()
                ),
            }
        }
    }

    /// The api's base URL, once it listens.
    pub async fn base_url(&mut self) -> String {
        let line = self.wait_log("http listening", 60, |_| true).await;
        let addr: SocketAddr = line["addr"].as_str().expect("addr field").parse().unwrap();
        format!("http://{addr}")
    }

    /// Waits until the worker takes jobs.
    pub async fn worker_started(&mut self) {
        self.wait_log("worker started", 120, |_| true).await;
    }

    /// `kill -9`: no clean-up of any kind.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        self.exited = self.child.wait().ok();
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit on its own.
    pub async fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.exited = Some(status);
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "coda {} did not exit within {secs} s:\n{}",
                self.role,
                self.log_text()
            );
            // The line reader closes its channel when stderr closes, just before the exit.
            let _ = tokio::time::timeout(Duration::from_millis(100), self.seen.changed()).await;
        }
    }

    /// Resident memory figures from `/proc/<pid>/status`, in bytes.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("process status");
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                * 1024
        };
        Memory {
            rss: kb("VmRSS:"),
            hwm: kb("VmHWM:"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub hwm: u64,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- coda {} log ---\n{}", self.role, self.log_text());
        }
    }
}

/// A private `redis-server` on a free port, for tests that stop and restart Redis.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start() -> PrivateRedis {
        let port = free_port();
        let mut redis = PrivateRedis {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it again on the same port (after `stop`) and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            // Durable like a production Redis: a restart keeps the queue.
            .args(["--save", "", "--appendonly", "yes"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (is it installed?)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it the way a restart does (SIGTERM: it flushes its append-only file first).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port free right now (the OS may hand it out again, but not within a test's lifetime in
/// practice: it picks ephemeral ports round-robin).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ulid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{}", std::process::id())
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `POST /api/v1/jobs` → (status, body).
pub async fn submit(client: &reqwest::Client, base: &str, body: Value) -> (u16, Value) {
    let response = client
        .post(format!("{base}/api/v1/jobs"))
        .json(&body)
        .send()
        .await
        .expect("submit answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Submits and returns the new job's id.
pub async fn submit_ok(client: &reqwest::Client, base: &str, body: Value) -> String {
    let (status, answer) = submit(client, base, body).await;
    assert_eq!(status, 202, "submit answered {answer}");
    answer["job"]["id"].as_str().unwrap().to_string()
}

/// Submits a clip of `seconds` described by `prompt` and returns the new job's id.
pub async fn submit_clip(
    client: &reqwest::Client,
    base: &str,
    prompt: &str,
    seconds: f64,
) -> String {
    submit_ok(
        client,
        base,
        serde_json::json!({"prompt": prompt, "duration_seconds": seconds}),
    )
    .await
}

/// `GET url` → its JSON body.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

pub async fn job(client: &reqwest::Client, base: &str, id: &str) -> Value {
    get_json(client, &format!("{base}/api/v1/jobs/{id}")).await
}

/// Polls `check` every 100 ms until it yields, failing after `secs`.
pub async fn until<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the job's status is one of `statuses` and returns its view.
pub async fn until_status(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    statuses: &[&str],
    secs: u64,
) -> Value {
    until(secs, &format!("job {id} to be {statuses:?}"), || async {
        let view = job(client, base, id).await;
        statuses
            .contains(&view["status"].as_str().unwrap_or(""))
            .then_some(view)
    })
    .await
}
