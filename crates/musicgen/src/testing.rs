//! What the crate's own tests, benches and examples reach into, built only with the `testing`
//! feature: a model's intermediate results, for comparisons with the reference implementation
//! and between quantizations, and the stages of a job one at a time. No part of the API.

use candle_core::Tensor;

use crate::error::Result;
use crate::generation::{Generation, GenerationObserver, GenerationParams};
use crate::model::MusicGen;

/// `x` `[m, in]` times `w` `[out, in]` transposed, as the decoder's dense layers take it: the
/// few-row kernel up to its row limit, gemm beyond.
pub fn dense_product(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    Ok(crate::dense::times_transposed(x, w)?)
}

/// A job fed fixed codes: its prompt ids, its codes (`[K, frames]`) and its guidance scale.
pub type ForcedJob<'a> = (&'a [u32], &'a [Vec<u32>], f64);

impl MusicGen {
    pub fn config(&self) -> &crate::MusicgenConfig {
        &self.config
    }

    /// Audio samples per frame.
    pub fn hop_length(&self) -> usize {
        self.config.audio_encoder.hop_length()
    }

    /// Token ids of `prompt`, with the end-of-sequence token the tokenizer appends.
    pub fn tokenize(&self, prompt: &str) -> Result<Vec<u32>> {
        self.prompt_ids(prompt)
    }

    /// [`generate`](Self::generate) from prompt token ids (`params.prompt` is ignored).
    pub fn generate_from_ids(
        &self,
        ids: &[u32],
        params: &GenerationParams,
        observer: &mut dyn GenerationObserver,
    ) -> Result<Generation> {
        self.generate_from_tokens(ids, params, observer)
    }

    /// T5 last hidden state for a batch of token ids, `[batch, len, d_model]`, before the
    /// projection to the decoder width. `ids` and `mask` rows must share one length.
    pub fn encode_prompt_ids(&self, ids: &[Vec<u32>], mask: &[Vec<u32>]) -> Result<Tensor> {
        self.text_states(ids, mask)
    }

    /// The encoder states the decoder attends to, `[batch, len, decoder width]`: the T5 output
    /// through `enc_to_dec_proj` (when the model has one), zeroed where `mask` is 0.
    pub fn encode_prompt_ids_projected(
        &self,
        ids: &[Vec<u32>],
        mask: &[Vec<u32>],
    ) -> Result<Tensor> {
        self.cross_states(ids, mask)
    }

    /// Decodes delay-free codes (one row per codebook) to mono samples, `frames × hop` long.
    pub fn decode_audio(&self, codes: &[Vec<u32>]) -> Result<Vec<f32>> {
        self.render(codes)
    }

    /// [`decode_audio`](Self::decode_audio) rendering `window` frames at a time past the
    /// LSTM (the default window bounds memory; the output does not depend on it).
    pub fn decode_audio_in_windows(&self, codes: &[Vec<u32>], window: usize) -> Result<Vec<f32>> {
        self.audio.decode_in_windows(codes, window)
    }

    /// Guided logits `[K, vocab]` of the first decoding step (every codebook fed the start
    /// token) for prompt `ids`: the quantity sampling starts from, for reference comparisons.
    pub fn guided_logits_step0(&self, ids: &[u32], guidance: f64) -> Result<Tensor> {
        let pad = self.pattern(1).pad;
        let fed = vec![vec![pad]; self.num_codebooks()];
        Ok(self.guided_logits_fed(ids, &fed, 1, guidance)?.remove(0))
    }

    /// Guided logits `[K, vocab]` of every decoding step of `codes` (`[K, frames]`) with the
    /// model fed those codes rather than its own choices (teacher forcing): what it would pick
    /// at each step after the same history, so that two models can be compared step by step
    /// without one flipped near-tie sending all later steps down another path.
    pub fn guided_logits_along(
        &self,
        ids: &[u32],
        codes: &[Vec<u32>],
        guidance: f64,
    ) -> Result<Vec<Tensor>> {
        let pattern = self.pattern(codes.first().map_or(0, Vec::len));
        self.guided_logits_fed(ids, &pattern.apply(codes), pattern.steps(), guidance)
    }

    /// [`guided_logits_along`](Self::guided_logits_along) for several jobs decoded together,
    /// one pass of the decoder per step as the engine runs them: job `j` is `(ids, codes,
    /// guidance)`, and it leaves the batch when its own steps end. Returns each job's logits.
    pub fn guided_logits_along_together(&self, jobs: &[ForcedJob<'_>]) -> Result<Vec<Vec<Tensor>>> {
        struct Job {
            cond: crate::compose::Conditioning,
            state: crate::decoder::DecoderState,
            fed: Vec<Vec<u32>>,
            steps: usize,
        }
        let mut live = jobs
            .iter()
            .map(|(ids, codes, guidance)| {
                let pattern = self.pattern(codes.first().map_or(0, Vec::len));
                let cond = self.conditioning(ids, *guidance)?;
                let steps = pattern.steps();
                let state = self.decoder.start(&cond.states, &cond.mask, steps)?;
                Ok(Job {
                    cond,
                    state,
                    fed: pattern.apply(codes),
                    steps,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out = vec![Vec::new(); jobs.len()];
        let longest = live.iter().map(|j| j.steps).max().unwrap_or(0);
        for step in 0..longest {
            let inputs: Vec<(usize, Vec<u32>)> = live
                .iter()
                .enumerate()
                .filter(|(_, j)| step < j.steps)
                .map(|(i, j)| (i, j.fed.iter().map(|row| row[step]).collect()))
                .collect();
            let mut items: Vec<_> = live
                .iter_mut()
                .filter(|j| step < j.steps)
                .zip(&inputs)
                .map(|(j, (_, inputs))| (&mut j.state, inputs.as_slice(), &j.cond))
                .collect();
            let logits = self.guided_steps(&mut items)?;
            for ((i, _), logits) in inputs.iter().zip(logits) {
                out[*i].push(logits);
            }
        }
        Ok(out)
    }

    /// Guided logits of the first `steps` decoding steps, step `s` fed position `s` of every
    /// row of `fed` (`[K, ≥ steps]`).
    fn guided_logits_fed(
        &self,
        ids: &[u32],
        fed: &[Vec<u32>],
        steps: usize,
        guidance: f64,
    ) -> Result<Vec<Tensor>> {
        let cond = self.conditioning(ids, guidance)?;
        let mut state = self.decoder.start(&cond.states, &cond.mask, steps)?;
        (0..steps)
            .map(|step| {
                let inputs: Vec<u32> = fed.iter().map(|row| row[step]).collect();
                self.guided_step(&mut state, &inputs, &cond)
            })
            .collect()
    }
}
