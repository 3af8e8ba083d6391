//! A short timed run at start that seeds ms/step, so that the very first ETAs are measured, not
//! guessed.
//!
//! Loading has already paid the model's one-off costs (the repacking of quantized weights, in
//! its one warm-up step, so that the memory check counts the repacked copy), so nothing here
//! warms up again: the untimed prefill only moves the timed steps to the middle of a clip, and
//! the median leaves out whatever the first of them still pays.

use std::sync::Arc;

use coda_musicgen::bench::{run_bench, BenchOptions};
use coda_musicgen::MusicGen;

use crate::error::WorkerError;

/// Decoding steps timed and frames rendered by the warm-up (0.4 s of audio at 50 frames/s).
const WARM_UP_FRAMES: usize = 20;
/// Where the timed steps start: a step costs more the longer the clip so far (attention reads
/// the whole cache; a late step of a 10 s clip costs about twice an early one), so steps
/// measured at the middle of a 10 s clip stand for its average, not its cheap start.
const MID_CLIP_POSITION: usize = 250;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmUp {
    pub ms_per_step: f64,
    /// Prompt encoding + audio rendering.
    pub overhead_ms: f64,
}

pub async fn warm_up(model: Arc<MusicGen>) -> Result<WarmUp, WorkerError> {
    let report = tokio::task::spawn_blocking(move || {
        run_bench(
            &model,
            &BenchOptions {
                steps: WARM_UP_FRAMES,
                warmup_steps: 0,
                audio_frames: WARM_UP_FRAMES,
                start_position: MID_CLIP_POSITION,
                ..BenchOptions::default()
            },
        )
    })
    .await??;
    // The median, not the mean: a first step may still pay costs a job will not.
    Ok(WarmUp {
        ms_per_step: report.step_ms_median,
        overhead_ms: report.text_ms + report.audio_ms,
    })
}
