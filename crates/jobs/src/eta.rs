//! Wait and run-time estimates from measured decoding speed.
//!
//! MusicGen spends almost all of its time in the autoregressive decoder, one step per audio
//! frame plus `K − 1` steps for the codebook delay pattern, so a job's cost is its step count
//! times the measured ms per step, plus a fixed overhead (prompt encoding, audio rendering).
//!
//! The worker decodes up to its concurrency of jobs together, one pass per step: a step of a
//! batch costs a little more than a step alone, and is shared by its jobs. The step time of
//! each batch size is measured (at the worker's start, then from real steps), so a job's run
//! time is its steps at the step time of the batch it runs in, and a queue drains at the full
//! batch's step time shared among its slots.

use crate::range::Range;

/// MusicGen's EnCodec runs at 32 kHz with a hop of 640 samples: 50 frames per second.
pub const MUSICGEN_FRAME_RATE: f64 = 50.0;
/// MusicGen predicts 4 codebooks per frame, offset by one step each (the delay pattern).
pub const MUSICGEN_CODEBOOKS: u64 = 4;
/// Used until a worker has measured anything; the range is widened accordingly.
pub const FALLBACK_MS_PER_STEP: f64 = 100.0;
pub const FALLBACK_OVERHEAD_MS: f64 = 1000.0;
/// Relative half-width of a range: at least ±20%, ±50% before the first measurement.
const MIN_SPREAD: f64 = 0.2;
const UNMEASURED_SPREAD: f64 = 0.5;
const MAX_SPREAD: f64 = 1.0;

/// Frame rate and codebooks of the model in use (published by the worker).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelShape {
    pub frame_rate: f64,
    pub codebooks: u64,
}

impl Default for ModelShape {
    fn default() -> Self {
        ModelShape {
            frame_rate: MUSICGEN_FRAME_RATE,
            codebooks: MUSICGEN_CODEBOOKS,
        }
    }
}

impl ModelShape {
    pub fn frames(&self, duration_seconds: f64) -> u64 {
        crate::frames::frames_for_seconds(duration_seconds, self.frame_rate) as u64
    }

    /// Decoding steps for a clip: frames + K − 1.
    pub fn steps(&self, duration_seconds: f64) -> u64 {
        self.frames(duration_seconds) + self.codebooks.saturating_sub(1)
    }
}

/// The step time of a batch of `batch` jobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSpeed {
    pub batch: u64,
    /// Wall time of one step of the whole batch.
    pub ms_per_step: f64,
}

/// Measured speed (moving averages kept in Redis).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Speed {
    /// One job decoded alone.
    pub ms_per_step: Option<f64>,
    /// Mean absolute deviation of ms per step between jobs.
    pub ms_per_step_dev: f64,
    pub overhead_ms: Option<f64>,
    /// Step time by batch size, smallest first (empty until a worker has measured them).
    pub by_batch: Vec<BatchSpeed>,
}

impl Speed {
    /// A step of one job alone.
    pub fn step_ms(&self) -> f64 {
        self.ms_per_step.unwrap_or(FALLBACK_MS_PER_STEP)
    }

    /// A step of a batch of `jobs` (≥ 1): how much slower than a step alone the measured batch
    /// sizes say it is, interpolated between them and, past the largest, growing with its
    /// per-job cost; applied to the single-job average so that both follow real jobs.
    pub fn batch_step_ms(&self, jobs: u64) -> f64 {
        let jobs = jobs.max(1);
        let alone = self.step_ms();
        let table = &self.by_batch;
        let Some(first) = table
            .first()
            .filter(|f| f.batch == 1 && f.ms_per_step > 0.0)
        else {
            return alone;
        };
        let at = |b: f64| -> f64 {
            let above = table.iter().position(|s| s.batch as f64 >= b);
            match above {
                Some(0) => first.ms_per_step,
                Some(i) => {
                    let (lo, hi) = (table[i - 1], table[i]);
                    let t = (b - lo.batch as f64) / (hi.batch - lo.batch) as f64;
                    lo.ms_per_step + t * (hi.ms_per_step - lo.ms_per_step)
                }
                None => {
                    let last = table[table.len() - 1];
                    last.ms_per_step * b / last.batch as f64
                }
            }
        };
        alone * at(jobs as f64) / first.ms_per_step
    }

    pub fn overhead_ms(&self) -> f64 {
        self.overhead_ms.unwrap_or(FALLBACK_OVERHEAD_MS)
    }

    /// Relative half-width of estimates: twice the observed spread, within bounds.
    pub fn spread(&self) -> f64 {
        match self.ms_per_step {
            Some(mean) if mean > 0.0 => {
                (2.0 * self.ms_per_step_dev / mean).clamp(MIN_SPREAD, MAX_SPREAD)
            }
            _ => UNMEASURED_SPREAD,
        }
    }

    /// Expected seconds to run a job of `steps` decoding steps from the start, decoded in a
    /// batch of `together` jobs (itself included).
    pub fn job_seconds(&self, steps: u64, together: u64) -> f64 {
        (steps as f64 * self.batch_step_ms(together) + self.overhead_ms()) / 1000.0
    }
}

/// The work in front of a job.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ahead {
    pub jobs: u64,
    pub steps: u64,
    pub running_jobs: u64,
    pub running_remaining_steps: u64,
    /// Jobs the live workers run at once (≥ 1).
    pub concurrency: u64,
}

impl Ahead {
    /// The batch a job behind this work runs in: as full as the jobs around it make it.
    pub fn batch(&self) -> u64 {
        (self.jobs + self.running_jobs + 1).min(self.concurrency.max(1))
    }
}

/// Central estimate of the seconds until a queued job starts.
pub fn start_seconds(ahead: &Ahead, speed: &Speed) -> f64 {
    let concurrency = ahead.concurrency.max(1);
    // A free slot means no wait at all.
    if ahead.jobs + ahead.running_jobs < concurrency {
        return 0.0;
    }
    // The slots are all busy: the work ahead drains a full batch's step at a time, shared
    // among its slots. Running jobs still have their audio rendering ahead: count half an
    // overhead each.
    let ms = (ahead.steps + ahead.running_remaining_steps) as f64
        * speed.batch_step_ms(concurrency)
        + (ahead.jobs as f64 + 0.5 * ahead.running_jobs as f64) * speed.overhead_ms();
    ms / concurrency as f64 / 1000.0
}

/// Widens a central estimate into a range.
pub fn range(center: f64, speed: &Speed) -> Range {
    let s = speed.spread();
    Range {
        low: (center * (1.0 - s)).max(0.0),
        high: center * (1.0 + s),
    }
}

/// Keeps a countdown from jumping backwards: the new absolute range (epoch ms) is pulled inside
/// the previous one unless it lies wholly outside it (then something real changed: a job ahead
/// was cancelled, or the workers slowed down).
pub fn steady(previous: Option<(f64, f64)>, next: (f64, f64)) -> (f64, f64) {
    match previous {
        Some((lo, hi)) if next.0 <= hi && next.1 >= lo => (next.0.max(lo), next.1.min(hi)),
        _ => next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_delay_pattern() {
        let shape = ModelShape::default();
        assert_eq!(shape.steps(10.0), 500 + 3);
        assert_eq!(shape.steps(1.01), 51 + 3);
    }

    #[test]
    fn free_slot_means_no_wait() {
        let speed = Speed {
            ms_per_step: Some(10.0),
            ..Speed::default()
        };
        let ahead = Ahead {
            jobs: 0,
            steps: 0,
            running_jobs: 1,
            running_remaining_steps: 100,
            concurrency: 2,
        };
        assert_eq!(start_seconds(&ahead, &speed), 0.0);
    }

    #[test]
    fn wait_is_work_ahead_over_concurrency() {
        let speed = Speed {
            ms_per_step: Some(10.0),
            ms_per_step_dev: 0.0,
            overhead_ms: Some(0.0),
            by_batch: Vec::new(),
        };
        let ahead = Ahead {
            jobs: 2,
            steps: 1000,
            running_jobs: 2,
            running_remaining_steps: 1000,
            concurrency: 2,
        };
        assert!((start_seconds(&ahead, &speed) - 10.0).abs() < 1e-9);
        let r = range(10.0, &speed);
        assert_eq!((r.low, r.high), (8.0, 12.0));
    }

    #[test]
    fn a_batch_step_follows_the_measured_sizes_and_the_single_job_average() {
        let speed = Speed {
            ms_per_step: Some(20.0),
            by_batch: vec![
                BatchSpeed {
                    batch: 1,
                    ms_per_step: 10.0,
                },
                BatchSpeed {
                    batch: 4,
                    ms_per_step: 16.0,
                },
            ],
            ..Speed::default()
        };
        // Real jobs run at twice the warm-up's speed; the batch ratios scale along.
        assert!((speed.batch_step_ms(1) - 20.0).abs() < 1e-9);
        assert!((speed.batch_step_ms(2) - 24.0).abs() < 1e-9);
        assert!((speed.batch_step_ms(4) - 32.0).abs() < 1e-9);
        // Past the largest size measured: its per-job cost.
        assert!((speed.batch_step_ms(8) - 64.0).abs() < 1e-9);
        // Nothing measured by batch: a step alone.
        let plain = Speed {
            ms_per_step: Some(20.0),
            ..Speed::default()
        };
        assert!((plain.batch_step_ms(4) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_queue_drains_at_the_full_batchs_shared_step() {
        let speed = Speed {
            ms_per_step: Some(10.0),
            overhead_ms: Some(0.0),
            by_batch: vec![
                BatchSpeed {
                    batch: 1,
                    ms_per_step: 10.0,
                },
                BatchSpeed {
                    batch: 4,
                    ms_per_step: 20.0,
                },
            ],
            ..Speed::default()
        };
        let ahead = Ahead {
            jobs: 4,
            steps: 2000,
            running_jobs: 4,
            running_remaining_steps: 2000,
            concurrency: 4,
        };
        // 4000 job-steps, 4 per 20 ms step: 20 s.
        assert!((start_seconds(&ahead, &speed) - 20.0).abs() < 1e-9);
        assert_eq!(ahead.batch(), 4);
        // Alone, a 500-step job runs at the single-job step; beside three others, slower.
        assert!((speed.job_seconds(500, 1) - 5.0).abs() < 1e-9);
        assert!((speed.job_seconds(500, 4) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn steady_narrows_but_follows_real_changes() {
        assert_eq!(steady(Some((100.0, 200.0)), (150.0, 250.0)), (150.0, 200.0));
        assert_eq!(steady(Some((100.0, 200.0)), (10.0, 50.0)), (10.0, 50.0));
        assert_eq!(steady(None, (10.0, 50.0)), (10.0, 50.0));
    }
}
