//! A short generation at start: pays the one-off costs (allocations, kernel selection) before
//! the first real job and seeds ms/step so the very first ETAs are measured, not guessed.

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
                audio_frames: WARM_UP_FRAMES,
                start_position: MID_CLIP_POSITION,
                ..BenchOptions::default()
            },
        )
    })
    .await??;
    // The median, not the mean: the first steps pay one-off costs a job will not.
    Ok(WarmUp {
        ms_per_step: report.step_ms_median,
        overhead_ms: report.text_ms + report.audio_ms,
    })
}
