//! One module per subcommand.

mod bench;
mod generate;
mod quantize;
mod serve;
mod tiny;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::MakeTinyModel(args) => tiny::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Quantize(args) => quantize::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Up(args) => serve::run(serve::Role::Both, config, &args),
        Command::Api(args) => serve::run(serve::Role::Api, config, &args),
        Command::Worker(args) => serve::run(serve::Role::Worker, config, &args),
        Command::Migrate(args) => serve::migrate(config, &args),
    }
}
