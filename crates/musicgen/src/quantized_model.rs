//! Quantized models on disk: writing a GGUF from a checkpoint (or from random weights of a
//! preset's shapes), and the cached copy a worker quantizes on first use.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::MusicgenConfig;
use crate::error::{Error, Result};
use crate::gguf::write_gguf;
use crate::hub::resolve_model;
use crate::quantize::{quantize_weights, Quantization, QuantizeSummary};
use crate::random::{random_weights, WeightNormNaming};
use crate::tiny::tiny_tokenizer;
use crate::weights::Weights;
use candle_core::Device;
use tokenizers::Tokenizer;

/// Quantizes the model folder `source` (Hugging Face layout) to a self-contained GGUF at `out`.
pub fn quantize_model(
    source: &Path,
    quantization: Quantization,
    out: &Path,
) -> Result<QuantizeSummary> {
    let config = MusicgenConfig::from_file(&source.join("config.json"))?;
    let tokenizer_path = source.join("tokenizer.json");
    let tokenizer = Tokenizer::from_file(&tokenizer_path)
        .map_err(|e| Error::Tokenizer(format!("{}: {e}", tokenizer_path.display())))?;
    let mut weights = Weights::load(&source.join("model.safetensors"), &Device::Cpu)?;
    let summary = quantize_weights(&mut weights, quantization)?;
    write_gguf(out, &config, &tokenizer, &weights, quantization)?;
    Ok(summary)
}

/// Writes a GGUF of `config`'s shapes with deterministic random weights (the tiny model's
/// tokenizer): a stand-in of the real size for measuring load time and memory offline.
pub fn quantize_random(
    config: &MusicgenConfig,
    seed: u64,
    quantization: Quantization,
    out: &Path,
) -> Result<QuantizeSummary> {
    config.validate().map_err(|reason| Error::InvalidConfig {
        path: "<preset>".into(),
        reason,
    })?;
    let mut weights = Weights::from_map(random_weights(
        config,
        seed,
        WeightNormNaming::Legacy,
        &Device::Cpu,
    )?);
    let summary = quantize_weights(&mut weights, quantization)?;
    write_gguf(out, config, &tiny_tokenizer()?, &weights, quantization)?;
    Ok(summary)
}

/// Where the quantized copy of model `id` is cached: `<data_dir>/models/<name>-<quantization>.gguf`.
pub fn quantized_model_path(id: &str, data_dir: &Path, quantization: Quantization) -> PathBuf {
    let trimmed = id.trim_end_matches('/');
    let name = if Path::new(trimmed).is_dir() {
        Path::new(trimmed)
            .file_name()
            .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned())
    } else {
        trimmed.replace('/', "--")
    };
    data_dir
        .join("models")
        .join(format!("{name}-{quantization}.gguf"))
}

/// [`resolve_model`], then for a quantized setting the cached GGUF, written on first use and
/// again whenever the checkpoint is newer than it. Returns what [`crate::MusicGen::load`] takes.
pub fn resolve_quantized_model(
    id: &str,
    data_dir: &Path,
    quantization: Quantization,
) -> Result<PathBuf> {
    if Path::new(id).is_file() {
        return Ok(id.into());
    }
    if quantization == Quantization::None {
        return resolve_model(id, data_dir);
    }
    let source = resolve_model(id, data_dir)?;
    let out = quantized_model_path(id, data_dir, quantization);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let source_time = modified(&source.join("model.safetensors")).unwrap_or(SystemTime::UNIX_EPOCH);
    if modified(&out).is_some_and(|t| t >= source_time) {
        return Ok(out);
    }
    tracing::info!(model = id, %quantization, out = %out.display(), "quantizing the decoder (first use)");
    let summary = quantize_model(&source, quantization, &out)?;
    tracing::info!(by_type = ?summary.tensors_by_type, fallbacks = summary.fallbacks.len(), "quantized model written");
    Ok(out)
}
