use anyhow::Context;

use crate::cli::MakeTinyModelArgs;

pub fn run(args: &MakeTinyModelArgs) -> anyhow::Result<()> {
    coda_musicgen::make_tiny_model(&args.out)
        .with_context(|| format!("writing the tiny model to {}", args.out.display()))?;
    println!("tiny model written to {}", args.out.display());
    Ok(())
}
