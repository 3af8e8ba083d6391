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

/// A job being composed: everything about it that changes from step to step. Created by
/// [`MusicGen::begin`], advanced by [`MusicGen::decode`] (alone or beside others) and
/// [`Track::advance`], rendered by [`MusicGen::render_track`].
pub(crate) struct Track {
    cond: Conditioning,
    state: DecoderState,
    sampler: LogitsProcessor,
    pattern: DelayPattern,
    /// One row per codebook: the start token, then every token fed or sampled so far.
    delayed: Vec<Vec<u32>>,
    step: usize,
    total: usize,
    frames: usize,
    timings: Timings,
    decode_started: Instant,
    /// Jobs in each step so far, summed.
    together_sum: usize,
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
    /// whether to stop. The same steps as a batch of one in the engine.
    pub(crate) fn generate_from_tokens(
        &self,
        ids: &[u32],
        params: &GenerationParams,
        observer: &mut dyn GenerationObserver,
    ) -> Result<Generation> {
        let mut track = self.begin(ids, params, observer)?;
        loop {
            if observer.should_stop() {
                return Err(Error::Stopped);
            }
            let started = Instant::now();
            let logits = self.decode(&mut [&mut track])?.remove(0);
            if track.advance(&logits, observer, 1, millis(started))? {
                break;
            }
        }
        self.render_track(track, observer)
    }

    /// Encodes the prompt and prepares the decoder for a job of `params.frames` frames.
    pub(crate) fn begin(
        &self,
        ids: &[u32],
        params: &GenerationParams,
        observer: &mut dyn GenerationObserver,
    ) -> Result<Track> {
        params.validate().map_err(Error::InvalidRequest)?;
        let mut timings = Timings::default();
        observer.on_stage(Stage::EncodingPrompt);
        let started = Instant::now();
        let cond = self.conditioning(ids, params.guidance_scale)?;
        timings.text_ms = millis(started);

        let pattern = self.pattern(params.frames);
        let total = pattern.steps();
        let state = self.decoder.start(&cond.states, &cond.mask, total + 1)?;
        let delayed = (0..pattern.codebooks)
            .map(|_| {
                let mut row = Vec::with_capacity(total + 1);
                row.push(pattern.pad);
                row
            })
            .collect();
        Ok(Track {
            cond,
            state,
            sampler: LogitsProcessor::from_sampling(params.seed, sampling(params)),
            pattern,
            delayed,
            step: 0,
            total,
            frames: params.frames,
            timings,
            decode_started: Instant::now(),
            together_sum: 0,
        })
    }

    /// One decoding step of every track in one pass; returns each one's guided logits
    /// `[K, vocab]`, in order.
    pub(crate) fn decode(&self, tracks: &mut [&mut Track]) -> Result<Vec<Tensor>> {
        let inputs: Vec<Vec<u32>> = tracks
            .iter()
            .map(|t| t.delayed.iter().map(|row| row[t.step]).collect())
            .collect();
        let mut items: Vec<(&mut DecoderState, &[u32], &Conditioning)> = tracks
            .iter_mut()
            .zip(&inputs)
            .map(|(t, inputs)| (&mut t.state, inputs.as_slice(), &t.cond))
            .collect();
        self.guided_steps(&mut items)
    }

    /// Turns a finished track into audio; its caches are freed first, so they are not part of
    /// the job's peak memory (≈ 50 MB for 10 s of quantized musicgen-small).
    pub(crate) fn render_track(
        &self,
        track: Track,
        observer: &mut dyn GenerationObserver,
    ) -> Result<Generation> {
        let Track {
            state,
            delayed,
            pattern,
            mut timings,
            frames,
            ..
        } = track;
        drop(state);
        observer.on_stage(Stage::RenderingAudio);
        let started = Instant::now();
        let codes = pattern.undo(&delayed);
        let samples = self.render(&codes)?;
        timings.audio_ms = millis(started);
        tracing::debug!(?timings, frames, "musicgen generation finished");
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
        Ok(self.guided_steps(&mut [(state, inputs, cond)])?.remove(0))
    }

    /// [`guided_step`](Self::guided_step) for several jobs in one pass of the decoder.
    pub(crate) fn guided_steps(
        &self,
        items: &mut [(&mut DecoderState, &[u32], &Conditioning)],
    ) -> Result<Vec<Tensor>> {
        let tokens: Vec<&[u32]> = items.iter().map(|(_, inputs, _)| *inputs).collect();
        let mut states: Vec<&mut DecoderState> =
            items.iter_mut().map(|(state, _, _)| &mut **state).collect();
        let logits = self.decoder.step_batch(&mut states, &tokens)?;
        logits
            .into_iter()
            .zip(items.iter())
            .map(|(logits, (_, _, cond))| {
                let guided = match cond.guidance {
                    None => logits.get(0)?,
                    Some(scale) => {
                        let (c, u) = (logits.get(0)?, logits.get(1)?);
                        (&u + ((c - &u)? * scale)?)?
                    }
                };
                debug_assert_eq!(guided.dim(D::Minus1)?, self.config.decoder.vocab_size);
                Ok(guided)
            })
            .collect()
    }
}

impl Track {
    /// Samples this step's tokens from `logits` (the guided logits [`MusicGen::decode`] gave
    /// for this track) and reports progress; `together` tracks shared the step, which took
    /// `step_ms`. Returns true once the last step is done.
    pub(crate) fn advance(
        &mut self,
        logits: &Tensor,
        observer: &mut dyn GenerationObserver,
        together: usize,
        step_ms: f64,
    ) -> Result<bool> {
        self.timings.decode_share_ms += step_ms / together.max(1) as f64;
        self.together_sum += together;
        let step = self.step;
        for (k, row) in self.delayed.iter_mut().enumerate() {
            let token = match self.pattern.forced(k, step + 1) {
                Some(token) => token,
                None => self.sampler.sample(&logits.get(k)?)?,
            };
            row.push(token);
        }
        self.step += 1;
        observer.on_stage(Stage::Composing {
            step: self.step,
            total: self.total,
            together,
        });
        let done = self.step == self.total;
        if done {
            self.timings.decode_steps = self.total;
            self.timings.decode_ms = millis(self.decode_started);
            self.timings.together = self.together_sum as f64 / self.total as f64;
        }
        Ok(done)
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
