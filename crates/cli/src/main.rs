//! `coda`: the one binary. Each subcommand wires configuration into the library crates and holds
//! no logic of its own: the queue lives in `coda-jobs`, HTTP in `coda-api`, the consumer in
//! `coda-worker` and the model in `coda-musicgen`. The configuration file is those crates'
//! sections side by side (`config.rs`); each crate types and checks its own.

mod cli;
mod commands;
mod config;
mod logging;
mod shutdown;
mod threads;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    logging::init(cli.log_format);
    commands::dispatch(cli)
}
