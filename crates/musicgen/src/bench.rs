//! Measuring a loaded model: milliseconds per decoding step (with guidance and sampling, as a
//! job runs them), prompt encoding, EnCodec rendering, and what they add up to for a clip.
//! Used by `coda bench` and by the worker's start-up calibration of ETAs.

use std::time::Instant;

use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::MusicGen;

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Timed decoding steps. A step costs more the later it comes (attention reads the whole
    /// cache), so the clip figures are exact only when this covers a whole clip; fewer steps
    /// are extrapolated from their median.
    pub steps: usize,
    /// Untimed steps first (allocations and whatever else only the first steps pay; loading
    /// has already paid for the repacking of quantized weights).
    pub warmup_steps: usize,
    /// Positions fed in one go before the first step, so that a few timed steps can stand for
    /// the middle of a clip rather than its cheap start (0 = start at the beginning).
    pub start_position: usize,
    /// Classifier-free guidance scale; anything but 1.0 decodes a batch of two rows.
    pub guidance: f64,
    /// Prompt length in tokens for the T5 timing (13 ≈ a one-line description).
    pub prompt_tokens: usize,
    /// Frames rendered by EnCodec for its timing.
    pub audio_frames: usize,
    /// Length of the clip the real-time factor is computed for, in frames (500: 10 s at
    /// MusicGen's 50 frames per second).
    pub clip_frames: usize,
    /// Jobs decoded together, each with its own cache and sampler, as the engine batches them.
    pub batch: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            steps: 503,
            warmup_steps: 2,
            start_position: 0,
            guidance: 3.0,
            prompt_tokens: 13,
            audio_frames: 250,
            clip_frames: 500,
            batch: 1,
        }
    }
}

/// Measured figures; times in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Jobs per step; the step figures are for the whole batch.
    pub batch: usize,
    pub steps: usize,
    pub start_position: usize,
    pub step_ms_median: f64,
    pub step_ms_p10: f64,
    pub step_ms_p90: f64,
    pub step_ms_mean: f64,
    pub steps_per_second: f64,
    /// `step_ms_median` shared among the batch's jobs: what one job's step costs.
    pub job_step_ms_median: f64,
    pub text_ms: f64,
    pub audio_frames: usize,
    pub audio_ms: f64,
    /// The length of `clip_frames` at the model's frame rate.
    pub clip_seconds: f64,
    /// Decoding steps of the clip (frames + codebooks − 1).
    pub clip_steps: usize,
    /// T5 + the clip's decoding steps (measured when `steps` covers them, else `clip_steps` ×
    /// median) + EnCodec scaled to the clip's frames; for a batch, its jobs' prompts and
    /// renders each and their shared steps once.
    pub clip_ms: f64,
    /// Whether `clip_ms` extrapolates from the median instead of summing a whole clip's steps
    /// from its start (an underestimate when the steps were only the clip's first ones).
    pub clip_extrapolated: bool,
    /// `clip_ms` / the audio it makes (the clip length × batch): below 1 is faster than real
    /// time.
    pub real_time_factor: f64,
    /// Peak resident memory of the process so far (`VmHWM`), when the OS reports it.
    pub peak_rss_bytes: Option<u64>,
    pub threads: usize,
}

/// Runs the measurement on `model`. Decoding starts at `start_position` and runs
/// `warmup_steps + steps` positions, feeding back sampled tokens (top-k 250, as jobs do).
pub fn run_bench(model: &MusicGen, opts: &BenchOptions) -> Result<BenchReport> {
    if [
        opts.steps,
        opts.audio_frames,
        opts.prompt_tokens,
        opts.clip_frames,
        opts.batch,
    ]
    .contains(&0)
    {
        return Err(Error::InvalidRequest(
            "steps, audio frames, prompt tokens, clip frames and batch must be at least 1".into(),
        ));
    }
    let vocab = model.config.text_encoder.vocab_size as u32;
    // Arbitrary in-vocabulary ids ending with T5's end-of-sequence id.
    let mut ids: Vec<u32> = (0..opts.prompt_tokens as u32 - 1)
        .map(|i| (i * 7919 + 100) % vocab)
        .collect();
    ids.push(1);

    let started = Instant::now();
    let cond = model.conditioning(&ids, opts.guidance)?;
    let text_ms = millis(started);

    let total = opts.warmup_steps + opts.steps;
    let k = model.num_codebooks();
    let capacity = opts.start_position + total + 1;
    let pad = model.config.decoder.pad_token_id;
    let mut first = model.decoder.start(&cond.states, &cond.mask, capacity)?;
    if opts.start_position > 0 {
        let rows = cond.states.dim(0)?;
        let prefix = Tensor::full(pad, (rows, k, opts.start_position), &model.device)?;
        model.decoder.step(&mut first, &prefix)?;
    }
    // The batch's other jobs start from copies of the first one's prefilled caches: the same
    // work as filling each, in a fraction of the time (it matters at the worker's start).
    let mut states = (1..opts.batch)
        .map(|_| first.duplicate())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    states.insert(0, first);
    // One generator per job, as jobs have.
    let mut samplers: Vec<LogitsProcessor> = (0..opts.batch as u64)
        .map(|seed| {
            LogitsProcessor::from_sampling(
                seed,
                Sampling::TopK {
                    k: 250,
                    temperature: 1.0,
                },
            )
        })
        .collect();
    let mut inputs = vec![vec![pad; k]; opts.batch];
    let mut times = Vec::with_capacity(opts.steps);
    for step in 0..total {
        let started = Instant::now();
        let logits = {
            let mut items: Vec<_> = states
                .iter_mut()
                .zip(&inputs)
                .map(|(state, inputs)| (state, inputs.as_slice(), &cond))
                .collect();
            model.guided_steps(&mut items)?
        };
        for ((logits, inputs), sampler) in logits.iter().zip(&mut inputs).zip(&mut samplers) {
            for (row, input) in inputs.iter_mut().enumerate() {
                *input = sampler.sample(&logits.get(row)?)?;
            }
        }
        if step >= opts.warmup_steps {
            times.push(millis(started));
        }
    }

    // As in a job: the caches are gone before EnCodec runs.
    drop(states);
    let codebook_size = model.config.audio_encoder.codebook_size as u32;
    let codes: Vec<Vec<u32>> = (0..k)
        .map(|row| {
            (0..opts.audio_frames as u32)
                .map(|t| (t * 31 + row as u32 * 17) % codebook_size)
                .collect()
        })
        .collect();
    let started = Instant::now();
    model.render(&codes)?;
    let audio_ms = millis(started);

    let clip_frames = opts.clip_frames;
    let clip_seconds = clip_frames as f64 / model.frame_rate();
    let clip_steps = model.decoding_steps(clip_frames);
    let clip_extrapolated = opts.start_position > 0 || times.len() < clip_steps;
    let measured_clip_ms: f64 = times.iter().take(clip_steps).sum();
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);
    let median = percentile(&times, 0.5);
    let clip_decode_ms = if clip_extrapolated {
        clip_steps as f64 * median
    } else {
        measured_clip_ms
    };
    // Every job of the batch encodes its prompt and renders its audio on its own.
    let jobs = opts.batch as f64;
    let clip_ms = jobs * (text_ms + audio_ms * clip_frames as f64 / opts.audio_frames as f64)
        + clip_decode_ms;
    Ok(BenchReport {
        batch: opts.batch,
        steps: opts.steps,
        start_position: opts.start_position,
        step_ms_median: median,
        step_ms_p10: percentile(&times, 0.1),
        step_ms_p90: percentile(&times, 0.9),
        step_ms_mean: mean,
        steps_per_second: 1000.0 / median,
        job_step_ms_median: median / opts.batch as f64,
        text_ms,
        audio_frames: opts.audio_frames,
        audio_ms,
        clip_seconds,
        clip_steps,
        clip_ms,
        clip_extrapolated,
        real_time_factor: clip_ms / (jobs * clip_seconds * 1000.0),
        peak_rss_bytes: peak_rss_bytes(),
        threads: crate::threads::threads_in_use(),
    })
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`); `None` where
/// the OS has no such file.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

/// Current resident set size of this process (`VmRSS`); `None` where the OS has no such file.
pub fn rss_bytes() -> Option<u64> {
    proc_status_bytes("VmRSS:")
}

fn proc_status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_pick_from_the_sorted_values() {
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 6.0);
        assert_eq!(percentile(&v, 0.1), 2.0);
        assert_eq!(percentile(&v, 0.9), 10.0);
        assert_eq!(percentile(&[3.0], 0.9), 3.0);
    }
}
