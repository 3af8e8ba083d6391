//! Loading a model: a Hugging Face folder or a GGUF file, its decoder quantized at load when
//! asked, then one warm-up step when it has quantized layers.

use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use tokenizers::Tokenizer;

use crate::config::MusicgenConfig;
use crate::decoder::Decoder;
use crate::encodec::EncodecDecoder;
use crate::error::{Error, Result};
use crate::gguf::{is_gguf, read_gguf};
use crate::linear::Linear;
use crate::model::MusicGen;
use crate::quantize::{quantize_weights, Quantization};
use crate::t5::T5Encoder;
use crate::weights::Weights;

/// How to load a model.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: Device,
    /// The CPU threads the kernels should run on; `None` leaves candle's choice (one per
    /// physical core). The pools are the process's, and candle's is sized only by the
    /// environment the process started with (see [`crate::restart_with_threads`]): loading
    /// sizes rayon's pool when it still can and logs a count that is not in force.
    pub threads: Option<usize>,
    /// Quantize the decoder's linear layers at load (ignored for a GGUF file, which is
    /// already quantized).
    pub quantization: Quantization,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
            threads: None,
            quantization: Quantization::None,
        }
    }
}

impl MusicGen {
    /// Loads `config.json`, `model.safetensors` and `tokenizer.json` from `dir`, or a GGUF
    /// file written by [`crate::quantize_model`] when `dir` is one.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        if let Some(threads) = opts.threads {
            crate::threads::use_threads(threads);
        }
        if is_gguf(dir) {
            return Self::load_gguf(dir, opts);
        }
        let config = MusicgenConfig::from_file(&dir.join("config.json"))?;
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| Error::Tokenizer(format!("{}: {e}", tokenizer_path.display())))?;
        let mut weights = Weights::load(&dir.join("model.safetensors"), &opts.device)?;
        quantize_weights(&mut weights, opts.quantization)?;
        let model = Self::from_weights(config, tokenizer, &weights, opts)?;
        tracing::debug!(dir = %dir.display(), "musicgen model loaded");
        Ok(model)
    }

    fn load_gguf(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let model = read_gguf(path, &opts.device)?;
        if opts.quantization != Quantization::None
            && model.quantization.is_some_and(|q| q != opts.quantization)
        {
            tracing::warn!(
                file = %path.display(),
                asked = %opts.quantization,
                stored = ?model.quantization,
                "the GGUF file holds another quantization; using the file's"
            );
        }
        let loaded = Self::from_weights(model.config, model.tokenizer, &model.weights, opts)?;
        tracing::debug!(file = %path.display(), "musicgen model loaded from GGUF");
        Ok(loaded)
    }

    pub(crate) fn from_weights(
        config: MusicgenConfig,
        tokenizer: Tokenizer,
        weights: &Weights,
        opts: &LoadOptions,
    ) -> Result<Self> {
        let device = opts.device.clone();
        // Before loading: layers may release their quantized tensors from `weights`.
        let quantized = !weights.quantized().is_empty();
        let text = T5Encoder::load(weights, &config.text_encoder, &device)?;
        let text_dim = config.text_encoder.d_model;
        let dec_dim = config.decoder.hidden_size;
        let (enc_to_dec, cross_dim) = if config.has_enc_to_dec_proj() {
            (
                Some(Linear::load(
                    weights,
                    "enc_to_dec_proj",
                    text_dim,
                    dec_dim,
                    true,
                )?),
                dec_dim,
            )
        } else {
            (None, text_dim)
        };
        let decoder = Decoder::load(weights, &config.decoder, cross_dim, &device)?;
        let audio = EncodecDecoder::load(
            weights,
            &config.audio_encoder,
            config.decoder.num_codebooks,
            &device,
        )?;
        let model = Self {
            config,
            tokenizer,
            text,
            enc_to_dec,
            decoder,
            audio,
            device,
        };
        if model.device.is_cpu() {
            tracing::debug!(
                kernels = ?crate::kernels::level(),
                threads = crate::threads::threads_in_use(),
                "CPU kernels"
            );
        }
        if quantized {
            warm_up(&model)?;
        }
        Ok(model)
    }
}

/// One guided decoding step on a one-token prompt, so that one-off costs of quantized layers
/// are paid by the load, not by the first job: candle repacks a quantized weight on its first
/// matmul (hundreds of ms at full size) and keeps the repacked copy, which the worker's memory
/// check measures as part of the loaded model. This is the only warm-up: the worker's start-up
/// measurement (`bench::run_bench`) times steps on a model already past these costs.
fn warm_up(model: &MusicGen) -> Result<()> {
    let started = Instant::now();
    let cond = model.conditioning(&[1], 3.0)?;
    let mut state = model.decoder.start(&cond.states, &cond.mask, 1)?;
    let start = vec![model.config.decoder.pad_token_id; model.num_codebooks()];
    model.guided_step(&mut state, &start, &cond)?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    tracing::debug!(ms, "musicgen warm-up step done");
    Ok(())
}
