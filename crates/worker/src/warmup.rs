//! A short timed run at start that seeds ms/step, so that the very first ETAs are measured, not
//! guessed.
//!
//! Loading has already paid the model's one-off costs (the repacking of quantized weights, in
//! its one warm-up step, so that the memory check counts the repacked copy), so nothing here
//! warms up again: the untimed prefill only moves the timed steps to the middle of a clip, and
//! the median leaves out whatever the first of them still pays.

use std::sync::Arc;

use coda_jobs::eta::BatchSpeed;
use coda_musicgen::bench::{run_bench, BenchOptions};
use coda_musicgen::MusicGen;

use crate::error::WorkerError;

/// Decoding steps timed and frames rendered by the warm-up (0.4 s of audio at 50 frames/s).
const WARM_UP_FRAMES: usize = 20;
/// Where the timed steps start: a step costs more the longer the clip so far (attention reads
/// the whole cache; a late step of a 10 s clip costs about twice an early one), so steps
/// measured at the middle of a 10 s clip stand for its average, not its cheap start.
const MID_CLIP_POSITION: usize = 250;

#[derive(Debug, Clone, PartialEq)]
pub struct WarmUp {
    /// One job alone.
    pub ms_per_step: f64,
    /// Prompt encoding + audio rendering.
    pub overhead_ms: f64,
    /// A step of the whole batch at 1, 2, 4 … jobs up to the concurrency.
    pub by_batch: Vec<BatchSpeed>,
}

/// Batch sizes timed for a concurrency of `slots`: powers of two, and `slots` itself.
pub fn batch_sizes(slots: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = std::iter::successors(Some(1usize), |b| b.checked_mul(2))
        .take_while(|&b| b < slots)
        .collect();
    sizes.push(slots.max(1));
    sizes
}

pub async fn warm_up(model: Arc<MusicGen>, slots: usize) -> Result<WarmUp, WorkerError> {
    let reports = tokio::task::spawn_blocking(move || {
        batch_sizes(slots)
            .into_iter()
            .map(|batch| {
                run_bench(
                    &model,
                    &BenchOptions {
                        steps: WARM_UP_FRAMES,
                        warmup_steps: 0,
                        audio_frames: WARM_UP_FRAMES,
                        start_position: MID_CLIP_POSITION,
                        batch,
                        ..BenchOptions::default()
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let alone = &reports[0];
    // The median, not the mean: a first step may still pay costs a job will not.
    Ok(WarmUp {
        ms_per_step: alone.step_ms_median,
        overhead_ms: alone.text_ms + alone.audio_ms,
        by_batch: reports
            .iter()
            .map(|r| BatchSpeed {
                batch: r.batch as u64,
                ms_per_step: r.step_ms_median,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::batch_sizes;

    #[test]
    fn sizes_double_up_to_the_concurrency() {
        assert_eq!(batch_sizes(1), [1]);
        assert_eq!(batch_sizes(4), [1, 2, 4]);
        assert_eq!(batch_sizes(6), [1, 2, 4, 6]);
    }
}
