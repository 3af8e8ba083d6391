//! Configuration shared by every subcommand. The `coda` binary layers a TOML file, then
//! `CODA_<SECTION>__<KEY>` environment variables, then flags on top of these defaults; unknown
//! keys are rejected by name so a typo never silently falls back to a default.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

pub use crate::bytesize::ByteSize;
use crate::error::SettingsError;

/// The pending queue is capped well below the size at which apalis-redis's fetch script fails
/// ("too many results to unpack", around 8,000 due jobs).
pub const MAX_PENDING_CEILING: usize = 5000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub http: HttpSettings,
    pub redis: RedisSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub worker: WorkerSettings,
    pub model: ModelSettings,
    pub queue: QueueSettings,
    pub limits: Limits,
    pub auth: AuthSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Listen address.
    pub addr: SocketAddr,
    /// Base URL used in links handed to clients (e.g. `https://coda.example.org`); relative
    /// links when absent.
    pub public_url: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    pub url: String,
    /// Prefix of every Redis key Coda and its queue use; also the apalis queue name, set
    /// explicitly so that renaming a Rust type never moves the queue.
    pub namespace: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            namespace: "coda".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; `None` means a SQLite file `coda.db` under `storage.dir`.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Data directory: audio results, models, the default SQLite ledger.
    pub dir: PathBuf,
    /// How long finished jobs keep their audio and live state (the ledger keeps the row).
    pub retention_hours: u64,
    /// The same in seconds, for short-lived deployments and tests; overrides `retention_hours`.
    pub retention_seconds: Option<u64>,
}

impl StorageSettings {
    /// The effective retention in seconds.
    pub fn retention_seconds(&self) -> u64 {
        self.retention_seconds
            .unwrap_or(self.retention_hours.saturating_mul(3600))
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("./data"),
            retention_hours: 24,
            retention_seconds: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Jobs run at once by one worker process.
    pub concurrency: usize,
    /// Starts of one job (crashes included) before it is failed for good.
    pub max_attempts: u32,
    /// A worker that misses two heartbeats is presumed dead and its job re-queued.
    pub heartbeat_seconds: u64,
    /// How often an idle worker looks for work.
    pub poll_interval_ms: u64,
    /// How long a stopping worker waits for running jobs.
    pub shutdown_timeout_seconds: u64,
    /// Worker name prefix; a unique suffix is always added.
    pub name: Option<String>,
    /// Power draw of the accelerator while generating, for energy accounting; 0 = not reported.
    pub device_watts: f64,
    /// Memory this worker may use (`8GiB`, `512MiB`, or bytes); `None` = unchecked. At start the
    /// model's measured footprint times `worker.concurrency` must fit.
    pub memory_budget: Option<ByteSize>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 1,
            max_attempts: 3,
            heartbeat_seconds: 5,
            poll_interval_ms: 200,
            shutdown_timeout_seconds: 30,
            name: None,
            device_watts: 0.0,
            memory_budget: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// `tiny`, a local folder, or a Hugging Face id such as `facebook/musicgen-small`.
    pub id: String,
    /// `none`, `q8_0` or `q4k`.
    pub quantization: String,
    /// Inference threads; `None` = the library default.
    pub threads: Option<usize>,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            id: "tiny".into(),
            quantization: "none".into(),
            threads: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// Unfinished jobs (queued or running) accepted in total.
    pub max_pending: usize,
    /// Unfinished jobs accepted per client.
    pub max_pending_per_client: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            max_pending: 1000,
            max_pending_per_client: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_duration_seconds: f64,
    pub max_prompt_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_duration_seconds: 30.0,
            max_prompt_chars: 500,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Accepted API keys; empty = open service. Never printed.
    #[serde(serialize_with = "redacted")]
    pub api_keys: Vec<SecretString>,
}

fn redacted<S: Serializer>(keys: &[SecretString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(|_| "[redacted]"))
}

pub const QUANTIZATIONS: [&str; 3] = ["none", "q8_0", "q4k"];

impl Settings {
    /// Checks what serde cannot: ranges and cross-field rules. The message names the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let fail = |key: &'static str, message: String| Err(SettingsError { key, message });
        let ns = &self.redis.namespace;
        if ns.is_empty()
            || ns
                .chars()
                .any(|c| c.is_whitespace() || c == '{' || c == '}')
        {
            return fail(
                "redis.namespace",
                format!(
                    "redis.namespace must be a non-empty word without spaces or braces, got {ns:?}"
                ),
            );
        }
        if self.redis.url.trim().is_empty() {
            return fail("redis.url", "redis.url must not be empty".into());
        }
        let w = &self.worker;
        if w.concurrency < 1 {
            return fail(
                "worker.concurrency",
                format!("worker.concurrency must be ≥ 1, got {}", w.concurrency),
            );
        }
        if w.max_attempts < 1 {
            return fail(
                "worker.max_attempts",
                format!("worker.max_attempts must be ≥ 1, got {}", w.max_attempts),
            );
        }
        if !(1..=300).contains(&w.heartbeat_seconds) {
            return fail(
                "worker.heartbeat_seconds",
                format!(
                    "worker.heartbeat_seconds must be in 1..=300, got {}",
                    w.heartbeat_seconds
                ),
            );
        }
        if !(10..=60_000).contains(&w.poll_interval_ms) {
            return fail(
                "worker.poll_interval_ms",
                format!(
                    "worker.poll_interval_ms must be in 10..=60000, got {}",
                    w.poll_interval_ms
                ),
            );
        }
        if !w.device_watts.is_finite() || w.device_watts < 0.0 {
            return fail(
                "worker.device_watts",
                format!(
                    "worker.device_watts must be a finite number ≥ 0, got {}",
                    w.device_watts
                ),
            );
        }
        if self.model.id.trim().is_empty() {
            return fail("model.id", "model.id must not be empty".into());
        }
        if !QUANTIZATIONS.contains(&self.model.quantization.as_str()) {
            return fail(
                "model.quantization",
                format!(
                    "model.quantization must be one of {QUANTIZATIONS:?}, got {:?}",
                    self.model.quantization
                ),
            );
        }
        if self.model.threads == Some(0) {
            return fail("model.threads", "model.threads must be ≥ 1 when set".into());
        }
        let q = &self.queue;
        if !(1..=MAX_PENDING_CEILING).contains(&q.max_pending) {
            return fail(
                "queue.max_pending",
                format!(
                    "queue.max_pending must be in 1..={MAX_PENDING_CEILING}, got {}",
                    q.max_pending
                ),
            );
        }
        if q.max_pending_per_client < 1 {
            return fail(
                "queue.max_pending_per_client",
                format!(
                    "queue.max_pending_per_client must be ≥ 1, got {}",
                    q.max_pending_per_client
                ),
            );
        }
        let l = &self.limits;
        if !l.max_duration_seconds.is_finite() || !(1.0..=600.0).contains(&l.max_duration_seconds) {
            return fail(
                "limits.max_duration_seconds",
                format!(
                    "limits.max_duration_seconds must be in 1..=600, got {}",
                    l.max_duration_seconds
                ),
            );
        }
        if !(1..=10_000).contains(&l.max_prompt_chars) {
            return fail(
                "limits.max_prompt_chars",
                format!(
                    "limits.max_prompt_chars must be in 1..=10000, got {}",
                    l.max_prompt_chars
                ),
            );
        }
        if self.storage.retention_seconds == Some(0) {
            return fail(
                "storage.retention_seconds",
                "storage.retention_seconds must be ≥ 1 when set".into(),
            );
        }
        if w.memory_budget.is_some_and(|b| b.0 == 0) {
            return fail(
                "worker.memory_budget",
                "worker.memory_budget must be more than 0 bytes when set".into(),
            );
        }
        if self.storage.retention_hours < 1 {
            return fail(
                "storage.retention_hours",
                "storage.retention_hours must be ≥ 1".into(),
            );
        }
        Ok(())
    }

    /// The ledger URL: `database.url`, else a SQLite file under `storage.dir` created on demand.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.storage.dir.join("coda.db").display()
            ),
        }
    }
}
