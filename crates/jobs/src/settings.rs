//! The job contract's sections of the configuration (`redis`, `database`, `storage`, `queue`,
//! `limits`) and [`Settings`], what [`crate::Coda`] runs on: those sections plus the facts about
//! workers and links that the contract needs from sections other crates own. The `coda` binary
//! composes the file format from every crate's sections; unknown keys are rejected by name.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::SettingsError;

/// The pending queue is capped well below the size at which apalis-redis's fetch script fails
/// ("too many results to unpack", around 8,000 due jobs).
pub const MAX_PENDING_CEILING: usize = 5000;

/// Everything [`crate::Coda`] needs, composed by the binary from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub redis: RedisSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub queue: QueueSettings,
    pub limits: Limits,
    /// What the contract knows of workers (from the `worker` section).
    pub fleet: FleetSettings,
    /// Base URL of links handed to clients (`http.public_url`); relative links when absent.
    pub public_url: Option<String>,
}

/// The parts of a worker's configuration that every process must agree on: the api uses them
/// for liveness, estimates and accounting, the worker for counting attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetSettings {
    /// Job slots of a worker, assumed while no worker is alive.
    pub concurrency: usize,
    /// Starts of one job (crashes included) before it is failed for good.
    pub max_attempts: u32,
    /// A worker silent for this long, twice, is presumed dead.
    pub heartbeat_seconds: u64,
    /// Power draw of the accelerator while generating, for energy accounting; 0 = not reported.
    pub device_watts: f64,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            concurrency: 1,
            max_attempts: 3,
            heartbeat_seconds: 5,
            device_watts: 0.0,
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

impl Settings {
    /// Checks what serde cannot: ranges and cross-field rules. The message names the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.redis.validate()?;
        self.storage.validate()?;
        self.queue.validate()?;
        self.limits.validate()
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

impl RedisSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        let ns = &self.namespace;
        if ns.is_empty()
            || ns
                .chars()
                .any(|c| c.is_whitespace() || c == '{' || c == '}')
        {
            return Err(SettingsError::new(
                "redis.namespace",
                format!(
                    "redis.namespace must be a non-empty word without spaces or braces, got {ns:?}"
                ),
            ));
        }
        if self.url.trim().is_empty() {
            return Err(SettingsError::new(
                "redis.url",
                "redis.url must not be empty",
            ));
        }
        Ok(())
    }
}

impl StorageSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.retention_seconds == Some(0) {
            return Err(SettingsError::new(
                "storage.retention_seconds",
                "storage.retention_seconds must be ≥ 1 when set",
            ));
        }
        if self.retention_hours < 1 {
            return Err(SettingsError::new(
                "storage.retention_hours",
                "storage.retention_hours must be ≥ 1",
            ));
        }
        Ok(())
    }
}

impl QueueSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        SettingsError::check_range(
            "queue.max_pending",
            self.max_pending,
            1..=MAX_PENDING_CEILING,
        )?;
        if self.max_pending_per_client < 1 {
            return Err(SettingsError::new(
                "queue.max_pending_per_client",
                format!(
                    "queue.max_pending_per_client must be ≥ 1, got {}",
                    self.max_pending_per_client
                ),
            ));
        }
        Ok(())
    }
}

impl Limits {
    pub fn validate(&self) -> Result<(), SettingsError> {
        SettingsError::check_range(
            "limits.max_duration_seconds",
            self.max_duration_seconds,
            1.0..=600.0,
        )?;
        SettingsError::check_range("limits.max_prompt_chars", self.max_prompt_chars, 1..=10_000)
    }
}
