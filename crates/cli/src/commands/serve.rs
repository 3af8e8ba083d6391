//! `coda up`, `coda api`, `coda worker` and `coda migrate`: load settings, connect, run until
//! SIGTERM or Ctrl-C, then stop gracefully.

use std::path::{Path, PathBuf};

use anyhow::Context;
use coda_jobs::{Coda, Ledger};

use crate::cli::ServeArgs;
use crate::{config, shutdown};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Both,
    Api,
    Worker,
}

pub fn run(role: Role, config_file: Option<&Path>, args: &ServeArgs) -> anyhow::Result<()> {
    let config = config::load(config_file, args)?;
    if role != Role::Api {
        crate::threads::in_force_first(config.model.threads, "model.threads")?;
    }
    let options = config.api(web_dir(args.web_dir.clone()));
    runtime()?.block_on(async move {
        let coda = Coda::connect(&config.jobs())
            .await
            .context("connecting to Redis and the ledger")?;
        let stop = shutdown::broadcast();
        let api = async {
            if role == Role::Worker {
                return Ok(());
            }
            let addr = options.http.addr;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding http.addr {addr}"))?;
            coda_api::serve(
                coda.clone(),
                listener,
                options.clone(),
                shutdown::wait(stop.clone()),
            )
            .await
            .context("http server")
        };
        let worker = async {
            if role == Role::Api {
                return Ok(());
            }
            let model = coda_worker::load_model(&coda, &config.model, &config.worker)
                .await
                .context("loading the model")?;
            coda_worker::run(
                coda.clone(),
                model,
                &config.worker,
                shutdown::wait(stop.clone()),
            )
            .await
            .context("worker")
        };
        let result = tokio::try_join!(api, worker).map(|_| ());
        coda.ledger().close().await;
        result
    })
}

pub fn migrate(config_file: Option<&Path>, args: &ServeArgs) -> anyhow::Result<()> {
    let url = config::load(config_file, args)?.jobs().database_url();
    runtime()?.block_on(async move {
        let ledger = Ledger::connect(&url).await.context("applying migrations")?;
        ledger.close().await;
        anyhow::Ok(())
    })?;
    println!("ledger is up to date");
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The page ships next to the binary in a release image (`./web`); in a checkout it is the
/// workspace's `web/` folder, whatever the current directory.
fn web_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| {
        let here = PathBuf::from("web");
        if here.join("index.html").is_file() {
            here
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
        }
    })
}
