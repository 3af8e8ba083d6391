//! A loaded MusicGen model and the stages of a job that need its weights.

use candle_core::{DType, Device, Module, Tensor};
use tokenizers::Tokenizer;

use crate::config::MusicgenConfig;
use crate::decoder::Decoder;
use crate::encodec::EncodecDecoder;
use crate::error::{Error, Result};
use crate::linear::Linear;
use crate::t5::T5Encoder;

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
    pub fn sample_rate(&self) -> u32 {
        self.config.audio_encoder.sampling_rate
    }

    /// Frames per second of audio: [`generate`](Self::generate) takes a clip's length in frames.
    pub fn frame_rate(&self) -> f64 {
        self.config.audio_encoder.frame_rate()
    }

    pub fn num_codebooks(&self) -> usize {
        self.config.decoder.num_codebooks
    }

    /// Decoding steps for `frames` frames: the delay pattern adds `codebooks − 1`.
    pub fn decoding_steps(&self, frames: usize) -> usize {
        frames + self.num_codebooks() - 1
    }

    /// Peak working memory of one job generating `frames` frames with guidance: the attention
    /// cache while composing, then EnCodec's while rendering (the cache is freed in between).
    pub fn job_memory_bytes(&self, frames: usize) -> u64 {
        let cache = self.decoder.cache_bytes(2, self.decoding_steps(frames) + 1);
        let audio = self.audio.working_bytes(
            frames,
            self.config.audio_encoder.hop_length(),
            &self.config.audio_encoder,
        );
        cache.max(audio)
    }

    /// Token ids of `prompt`, with the end-of-sequence token the tokenizer appends.
    pub(crate) fn prompt_ids(&self, prompt: &str) -> Result<Vec<u32>> {
        let encoding = self
            .tokenizer
            .encode(prompt, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// T5 last hidden state for a batch of token ids, `[batch, len, d_model]`, before the
    /// projection to the decoder width. `ids` and `mask` rows must share one length.
    pub(crate) fn text_states(&self, ids: &[Vec<u32>], mask: &[Vec<u32>]) -> Result<Tensor> {
        let (ids, mask) = (self.batch(ids)?, self.batch(mask)?);
        if ids.dims() != mask.dims() {
            return Err(Error::InvalidRequest("ids and mask shapes differ".into()));
        }
        Ok(self.text.forward(&ids, &mask)?)
    }

    /// The encoder states the decoder attends to, `[batch, len, decoder width]`: the T5 output
    /// through `enc_to_dec_proj` (when the model has one), zeroed where `mask` is 0.
    pub(crate) fn cross_states(&self, ids: &[Vec<u32>], mask: &[Vec<u32>]) -> Result<Tensor> {
        let states = self.text_states(ids, mask)?;
        let mask = self.batch(mask)?;
        let states = match &self.enc_to_dec {
            Some(proj) => proj.forward(&states)?,
            None => states,
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

    /// Decodes delay-free codes (one row per codebook) to mono samples, `frames × hop` long.
    pub(crate) fn render(&self, codes: &[Vec<u32>]) -> Result<Vec<f32>> {
        self.audio.decode(codes)
    }
}
