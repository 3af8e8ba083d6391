//! The CPU thread count, put in force before anything else runs: candle sizes its pool only
//! from the environment a process starts with, so this may run the process again with it set.

use anyhow::Context;

/// `source` names where the count came from (`--threads`, `model.threads`) for the error.
pub fn in_force_first(threads: Option<usize>, source: &str) -> anyhow::Result<()> {
    match threads {
        Some(threads) => coda_musicgen::restart_with_threads(threads)
            .with_context(|| format!("running coda again with the {source} thread count")),
        None => Ok(()),
    }
}
