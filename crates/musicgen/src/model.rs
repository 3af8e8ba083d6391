//! A loaded MusicGen model and the stages of a job that need its weights.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use tokenizers::Tokenizer;

use crate::config::MusicgenConfig;
use crate::decoder::Decoder;
use crate::encodec::EncodecDecoder;
use crate::error::{Error, Result};
use crate::linear::Linear;
use crate::quantize::{quantize_weights, Quantization};
use crate::t5::T5Encoder;
use crate::weights::Weights;

/// How to load a model.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: Device,
    /// Threads for this model's computations; `None` uses the process-wide pool (one thread
    /// per physical core unless `RAYON_NUM_THREADS` says otherwise).
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

/// A MusicGen checkpoint ready to generate. Holds weights only, so it is `Send + Sync`: share
/// it in an `Arc` and call [`generate`](MusicGen::generate) from any thread.
pub struct MusicGen {
    pub(crate) config: MusicgenConfig,
    pub(crate) tokenizer: Tokenizer,
    pub(crate) text: T5Encoder,
    pub(crate) enc_to_dec: Option<Linear>,
    pub(crate) decoder: Decoder,
    pub(crate) audio: EncodecDecoder,
    pub(crate) device: Device,
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for MusicGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MusicGen")
            .field("config", &self.config)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl MusicGen {
    /// Loads `config.json`, `model.safetensors` and `tokenizer.json` from `dir`, or a GGUF
    /// file written by [`crate::quantize_model`] when `dir` is one.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        if let Some(threads) = opts.threads {
            crate::threads::set_threads(threads);
        }
        if crate::gguf::is_gguf(dir) {
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

    pub(crate) fn from_weights(
        config: MusicgenConfig,
        tokenizer: Tokenizer,
        weights: &Weights,
        opts: &LoadOptions,
    ) -> Result<Self> {
        let pool = opts
            .threads
            .map(|n| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .thread_name(|i| format!("musicgen-{i}"))
                    .build()
                    .map_err(|e| Error::InvalidRequest(format!("thread pool: {e}")))
            })
            .transpose()?;
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
            pool,
        };
        if quantized {
            model.warm_up()?;
        }
        Ok(model)
    }

    pub fn config(&self) -> &MusicgenConfig {
        &self.config
    }

    pub fn sample_rate(&self) -> u32 {
        self.config.audio_encoder.sampling_rate
    }

    pub fn frame_rate(&self) -> f64 {
        self.config.audio_encoder.frame_rate()
    }

    /// Audio samples per frame.
    pub fn hop_length(&self) -> usize {
        self.config.audio_encoder.hop_length()
    }

    pub fn num_codebooks(&self) -> usize {
        self.config.decoder.num_codebooks
    }

    /// Frames for `seconds` of audio, rounded to the nearest frame (at least one).
    pub fn frames_for_seconds(&self, seconds: f64) -> usize {
        ((seconds * self.frame_rate()).round() as usize).max(1)
    }

    /// Decoding steps for `frames` frames: the delay pattern adds `codebooks − 1`.
    pub fn decoding_steps(&self, frames: usize) -> usize {
        frames + self.num_codebooks() - 1
    }

    /// Token ids of `prompt`, with the end-of-sequence token the tokenizer appends.
    pub fn tokenize(&self, prompt: &str) -> Result<Vec<u32>> {
        let encoding = self
            .tokenizer
            .encode(prompt, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Runs `f` on this model's thread pool, if it has one.
    pub(crate) fn compute<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// T5 last hidden state for a batch of token ids, `[batch, len, d_model]`, before the
    /// projection to the decoder width. `ids` and `mask` rows must share one length.
    pub fn encode_prompt_ids(&self, ids: &[Vec<u32>], mask: &[Vec<u32>]) -> Result<Tensor> {
        let (ids, mask) = (self.batch(ids)?, self.batch(mask)?);
        if ids.dims() != mask.dims() {
            return Err(Error::InvalidRequest("ids and mask shapes differ".into()));
        }
        Ok(self.compute(|| self.text.forward(&ids, &mask))?)
    }

    /// The encoder states the decoder attends to, `[batch, len, decoder width]`: the T5 output
    /// through `enc_to_dec_proj` (when the model has one), zeroed where `mask` is 0.
    pub fn encode_prompt_ids_projected(
        &self,
        ids: &[Vec<u32>],
        mask: &[Vec<u32>],
    ) -> Result<Tensor> {
        let states = self.encode_prompt_ids(ids, mask)?;
        self.project(&states, &self.batch(mask)?)
    }

    pub(crate) fn project(&self, states: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let states = match &self.enc_to_dec {
            Some(proj) => self.compute(|| proj.forward(states))?,
            None => states.clone(),
        };
        Ok(states.broadcast_mul(&mask.to_dtype(DType::F32)?.unsqueeze(2)?)?)
    }

    fn batch(&self, rows: &[Vec<u32>]) -> Result<Tensor> {
        let len = rows.first().map_or(0, Vec::len);
        if len == 0 || rows.iter().any(|r| r.len() != len) {
            return Err(Error::InvalidRequest(
                "batch rows must be non-empty and of equal length".into(),
            ));
        }
        let flat: Vec<u32> = rows.concat();
        Ok(Tensor::from_vec(flat, (rows.len(), len), &self.device)?)
    }

    /// Peak working memory of one job generating `frames` frames with guidance: the attention
    /// cache while composing, then EnCodec's while rendering (the cache is freed in between).
    pub fn job_memory_bytes(&self, frames: usize) -> u64 {
        let cache = self.decoder.cache_bytes(2, self.decoding_steps(frames) + 1);
        let audio = self
            .audio
            .working_bytes(frames, self.hop_length(), &self.config.audio_encoder);
        cache.max(audio)
    }

    /// Decodes delay-free codes (one row per codebook) to mono samples, `frames × hop` long.
    pub fn decode_audio(&self, codes: &[Vec<u32>]) -> Result<Vec<f32>> {
        self.compute(|| self.audio.decode(codes))
    }

    /// [`decode_audio`](Self::decode_audio) rendering `window` frames at a time past the
    /// LSTM (the default window bounds memory; the output does not depend on it).
    pub fn decode_audio_in_windows(&self, codes: &[Vec<u32>], window: usize) -> Result<Vec<f32>> {
        self.compute(|| self.audio.decode_in_windows(codes, window))
    }
}
