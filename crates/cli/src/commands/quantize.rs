//! `coda quantize`: a checkpoint (or random weights of a published size) to a GGUF file whose
//! decoder linear layers are Q8_0 or Q4K.

use std::time::Instant;

use anyhow::Context;

use super::bench::preset_config;
use crate::cli::QuantizeArgs;

pub fn run(args: &QuantizeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.dtype != coda_musicgen::Quantization::None,
        "--dtype must be q8_0 or q4k (none would only copy the f32 weights)"
    );
    let started = Instant::now();
    let summary = match (&args.model, args.preset) {
        (Some(model), _) => {
            let dir = coda_musicgen::resolve_model(model, &args.data_dir)
                .with_context(|| format!("finding model `{model}`"))?;
            coda_musicgen::quantize_model(&dir, args.dtype, &args.out)
                .with_context(|| format!("quantizing {}", dir.display()))?
        }
        (None, Some(preset)) => {
            coda_musicgen::quantize_random(&preset_config(preset)?, 0, args.dtype, &args.out)
                .context("quantizing random weights")?
        }
        (None, None) => anyhow::bail!("give --model or --preset"),
    };
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote {} ({:.1} MiB) in {:.1?}: tensors by type {:?}",
        args.out.display(),
        size as f64 / (1u64 << 20) as f64,
        started.elapsed(),
        summary.tensors_by_type
    );
    if let Some((name, got)) = summary.fallbacks.first() {
        println!(
            "{} layer(s) are too narrow for {} blocks and use another type (e.g. {name}: {got})",
            summary.fallbacks.len(),
            args.dtype
        );
    }
    Ok(())
}
