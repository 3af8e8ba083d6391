//! The configuration file format, composed from the sections each crate owns, loaded in order
//! of precedence: defaults, the TOML file, `CODA_<SECTION>__<KEY>` environment variables, then
//! command-line flags. A bad key or value fails here, naming the key.

use std::path::{Path, PathBuf};

use anyhow::Context;
use coda_api::{ApiOptions, AuthSettings, HttpSettings};
use coda_jobs::settings::{
    DatabaseSettings, Limits, QueueSettings, RedisSettings, StorageSettings,
};
use coda_musicgen::ModelSettings;
use coda_worker::WorkerSettings;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::cli::ServeArgs;

/// Every section of `coda.toml`, each typed by the crate that uses it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
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

impl Config {
    /// What the job contract runs on.
    pub fn jobs(&self) -> coda_jobs::Settings {
        coda_jobs::Settings {
            redis: self.redis.clone(),
            database: self.database.clone(),
            storage: self.storage.clone(),
            queue: self.queue.clone(),
            limits: self.limits.clone(),
            fleet: self.worker.fleet(),
            public_url: self.http.public_url.clone(),
        }
    }

    /// What the HTTP layer runs on.
    pub fn api(&self, web_dir: PathBuf) -> ApiOptions {
        ApiOptions {
            http: self.http.clone(),
            auth: self.auth.clone(),
            web_dir,
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.jobs().validate()?;
        self.http.validate()?;
        self.worker.validate()?;
        self.model.validate()?;
        Ok(())
    }
}

pub fn load(file: Option<&Path>, flags: &ServeArgs) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(file) = file {
        anyhow::ensure!(
            file.exists(),
            "config file {} does not exist",
            file.display()
        );
        figment = figment.merge(Toml::file(file));
    }
    // Only double-underscore names are config keys: CODA_CONFIG and CODA_LOG_FORMAT are flags.
    figment = figment.merge(
        Env::prefixed("CODA_")
            .filter(|k| k.as_str().contains("__"))
            .split("__"),
    );
    let mut config: Config = figment.extract().map_err(describe)?;
    apply_flags(&mut config, flags);
    config.validate().context("invalid configuration")?;
    Ok(config)
}

fn apply_flags(config: &mut Config, flags: &ServeArgs) {
    if let Some(addr) = flags.addr {
        config.http.addr = addr;
    }
    if let Some(url) = &flags.redis_url {
        config.redis.url = url.clone();
    }
    if let Some(ns) = &flags.namespace {
        config.redis.namespace = ns.clone();
    }
    if let Some(url) = &flags.database_url {
        config.database.url = Some(url.clone());
    }
    if let Some(dir) = &flags.data_dir {
        config.storage.dir = dir.clone();
    }
    if let Some(n) = flags.concurrency {
        config.worker.concurrency = n;
    }
    if let Some(model) = &flags.model {
        config.model.id = model.clone();
    }
    if let Some(quantization) = flags.quantization {
        config.model.quantization = quantization;
    }
}

/// figment's errors already name the key path; keep all of them, one per line.
fn describe(err: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if key.is_empty() {
                format!("config: {e}")
            } else {
                format!("config key `{key}`: {}", e.kind)
            }
        })
        .collect();
    anyhow::anyhow!(lines.join("\n"))
}
