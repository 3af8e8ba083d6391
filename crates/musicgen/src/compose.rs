//! The generation loop: prompt → conditioning → delayed codebook decoding with guidance and
//! sampling → delay removed → EnCodec audio.

use std::time::Instant;

use candle_core::{Tensor, D};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use crate::decoder::DecoderState;
use crate::delay::DelayPattern;
use crate::error::{Error, Result};
use crate::generation::{Generation, GenerationObserver, GenerationParams, Stage, Timings};
use crate::model::MusicGen;

/// Encoder states and cross-attention mask for a job: one row, or two with guidance (the
/// prompt, then an unconditional row of zeros that attends to nothing).
pub(crate) struct Conditioning {
    pub(crate) states: Tensor,
    pub(crate) mask: Tensor,
    guidance: Option<f64>,
}

impl MusicGen {
    /// Generates `params.frames` frames of audio for `params.prompt`. Reports every stage to
    /// `observer` and asks it before each decoding step whether to stop.
    pub fn generate(
        &self,
        params: &GenerationParams,
        observer: &mut dyn GenerationObserver,
    ) -> Result<Generation> {
        params.validate().map_err(Error::InvalidRequest)?;
        let ids = self.prompt_ids(&params.prompt)?;
        self.generate_from_tokens(&ids, params, observer)
    }

    /// Generates `params.frames` frames conditioned on prompt token ids (`params.prompt` is
    /// ignored). Reports every stage to `observer` and asks it before each decoding step
    /// whether to stop.
    pub(crate) fn generate_from_tokens(
        &self,
        ids: &[u32],
        params: &GenerationParams,
        observer: &mut dyn GenerationObserver,
    ) -> Result<Generation> {
        params.validate().map_err(Error::InvalidRequest)?;
        let mut timings = Timings::default();

        observer.on_stage(Stage::EncodingPrompt);
        let started = Instant::now();
        let cond = self.conditioning(ids, params.guidance_scale)?;
        timings.text_ms = millis(started);

        let started = Instant::now();
        let pattern = self.pattern(params.frames);
        let total = pattern.steps();
        let mut state = self.decoder.start(&cond.states, &cond.mask, total + 1)?;
        let mut sampler = LogitsProcessor::from_sampling(params.seed, sampling(params));
        let mut delayed: Vec<Vec<u32>> = (0..pattern.codebooks)
            .map(|_| {
                let mut row = Vec::with_capacity(total + 1);
                row.push(pattern.pad);
                row
            })
            .collect();
        for step in 0..total {
            if observer.should_stop() {
                return Err(Error::Stopped);
            }
            let inputs: Vec<u32> = delayed.iter().map(|row| row[step]).collect();
            let logits = self.guided_step(&mut state, &inputs, &cond)?;
            for (k, row) in delayed.iter_mut().enumerate() {
                let token = match pattern.forced(k, step + 1) {
                    Some(token) => token,
                    None => sampler.sample(&logits.get(k)?)?,
                };
                row.push(token);
            }
            observer.on_stage(Stage::Composing {
                step: step + 1,
                total,
            });
        }
        timings.decode_steps = total;
        timings.decode_ms = millis(started);
        // The attention caches (≈ 50 MB for 10 s of quantized musicgen-small) are not needed
        // to render: freeing them first keeps them out of the job's peak memory.
        drop(state);

        observer.on_stage(Stage::RenderingAudio);
        let started = Instant::now();
        let codes = pattern.undo(&delayed);
        let samples = self.render(&codes)?;
        timings.audio_ms = millis(started);
        tracing::debug!(
            ?timings,
            frames = params.frames,
            "musicgen generation finished"
        );
        Ok(Generation {
            codes,
            samples,
            sample_rate: self.sample_rate(),
            timings,
        })
    }

    pub(crate) fn pattern(&self, frames: usize) -> DelayPattern {
        DelayPattern {
            codebooks: self.num_codebooks(),
            frames,
            pad: self.config.decoder.pad_token_id,
        }
    }

    pub(crate) fn conditioning(&self, ids: &[u32], guidance: f64) -> Result<Conditioning> {
        let ids = ids.to_vec();
        let ones = vec![1u32; ids.len()];
        let states = self.cross_states(&[ids], std::slice::from_ref(&ones))?;
        let mask = Tensor::from_vec(ones, (1, states.dim(1)?), &self.device)?;
        // Exactly 1.0 makes the unconditional row irrelevant: skip it and halve the work.
        #[expect(clippy::float_cmp, reason = "only the exact no-op scale is special")]
        if guidance == 1.0 {
            return Ok(Conditioning {
                states,
                mask,
                guidance: None,
            });
        }
        Ok(Conditioning {
            states: Tensor::cat(&[&states, &states.zeros_like()?], 0)?,
            mask: Tensor::cat(&[&mask, &mask.zeros_like()?], 0)?,
            guidance: Some(guidance),
        })
    }

    /// One decoding step fed `inputs` (one token per codebook) in every batch row; returns the
    /// guided logits `[K, vocab]`.
    pub(crate) fn guided_step(
        &self,
        state: &mut DecoderState,
        inputs: &[u32],
        cond: &Conditioning,
    ) -> Result<Tensor> {
        let rows = cond.states.dim(0)?;
        let k = inputs.len();
        let tokens = Tensor::from_slice(inputs, (1, k, 1), &self.device)?.repeat((rows, 1, 1))?;
        let logits = self.decoder.step(state, &tokens)?;
        let guided = match cond.guidance {
            None => logits.get(0)?,
            Some(scale) => {
                let (c, u) = (logits.get(0)?, logits.get(1)?);
                (&u + ((c - &u)? * scale)?)?
            }
        };
        debug_assert_eq!(guided.dim(D::Minus1)?, self.config.decoder.vocab_size);
        Ok(guided)
    }
}

fn sampling(params: &GenerationParams) -> Sampling {
    let temperature = params.temperature;
    if temperature == 0.0 {
        return Sampling::ArgMax;
    }
    match (params.top_k, params.top_p > 0.0) {
        (0, false) => Sampling::All { temperature },
        (0, true) => Sampling::TopP {
            p: params.top_p,
            temperature,
        },
        (k, false) => Sampling::TopK { k, temperature },
        (k, true) => Sampling::TopKThenTopP {
            k,
            p: params.top_p,
            temperature,
        },
    }
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}
