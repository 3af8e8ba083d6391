//! Settings in order of precedence: defaults, the TOML file, `CODA_<SECTION>__<KEY>` environment
//! variables, then command-line flags. A bad key or value fails here, naming the key.

use std::path::Path;

use anyhow::Context;
use coda_jobs::settings::Settings;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;

use crate::cli::ServeArgs;

pub fn load(file: Option<&Path>, flags: &ServeArgs) -> anyhow::Result<Settings> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
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
    let mut settings: Settings = figment.extract().map_err(describe)?;
    apply_flags(&mut settings, flags);
    settings.validate().context("invalid configuration")?;
    Ok(settings)
}

fn apply_flags(settings: &mut Settings, flags: &ServeArgs) {
    if let Some(addr) = flags.addr {
        settings.http.addr = addr;
    }
    if let Some(url) = &flags.redis_url {
        settings.redis.url = url.clone();
    }
    if let Some(ns) = &flags.namespace {
        settings.redis.namespace = ns.clone();
    }
    if let Some(url) = &flags.database_url {
        settings.database.url = Some(url.clone());
    }
    if let Some(dir) = &flags.data_dir {
        settings.storage.dir = dir.clone();
    }
    if let Some(n) = flags.concurrency {
        settings.worker.concurrency = n;
    }
    if let Some(model) = &flags.model {
        settings.model.id = model.clone();
    }
    if let Some(quantization) = flags.quantization {
        settings.model.quantization = quantization.as_str().to_string();
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
