//! Measured step times by batch size: what an ETA needs to know about batching.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Weight of the newest step in the moving averages.
const SMOOTHING: f64 = 0.05;

/// Milliseconds per step of the whole batch, by how many jobs it held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepTiming {
    /// Jobs in the batch.
    pub batch: usize,
    /// Moving average of a step's wall time (the recent steps weigh most).
    pub ms_per_step: f64,
    /// Steps measured at this size, and their total time.
    pub steps: u64,
    pub total_ms: f64,
    /// The same, for the steps taken while another job was being finished (rendered) beside
    /// them: the cost a render imposes on the batch.
    pub ms_per_step_while_finishing: Option<f64>,
    pub steps_while_finishing: u64,
    pub total_ms_while_finishing: f64,
}

impl StepTiming {
    /// Per job: the batch's step time shared among its jobs.
    pub fn ms_per_job_step(&self) -> f64 {
        self.ms_per_step / self.batch.max(1) as f64
    }

    /// The mean over every step measured at this size (without a render beside it).
    pub fn mean_ms_per_step(&self) -> Option<f64> {
        (self.steps > 0).then(|| self.total_ms / self.steps as f64)
    }

    /// The mean over every step taken while a render ran beside it.
    pub fn mean_ms_per_step_while_finishing(&self) -> Option<f64> {
        (self.steps_while_finishing > 0)
            .then(|| self.total_ms_while_finishing / self.steps_while_finishing as f64)
    }
}

/// Shared between the stepping thread, which records, and whoever reports.
#[derive(Debug, Default)]
pub struct StepTimes {
    by_batch: Mutex<BTreeMap<usize, StepTiming>>,
}

impl StepTimes {
    pub fn record(&self, batch: usize, ms: f64, finishing: bool) {
        let mut map = self.by_batch.lock().unwrap_or_else(|e| e.into_inner());
        let t = map.entry(batch).or_insert(StepTiming {
            batch,
            ms_per_step: ms,
            steps: 0,
            total_ms: 0.0,
            ms_per_step_while_finishing: None,
            steps_while_finishing: 0,
            total_ms_while_finishing: 0.0,
        });
        if finishing {
            let avg = t.ms_per_step_while_finishing.get_or_insert(ms);
            *avg += SMOOTHING * (ms - *avg);
            t.steps_while_finishing += 1;
            t.total_ms_while_finishing += ms;
        } else {
            t.total_ms += ms;
            // The first steps at a size set it; later ones refine it.
            let weight = SMOOTHING.max(1.0 / (t.steps + 1) as f64);
            t.ms_per_step += weight * (ms - t.ms_per_step);
            t.steps += 1;
        }
    }

    /// Every batch size measured so far, smallest first.
    pub fn snapshot(&self) -> Vec<StepTiming> {
        let map = self.by_batch.lock().unwrap_or_else(|e| e.into_inner());
        map.values().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::StepTimes;

    #[test]
    fn steps_are_averaged_per_batch_size_and_renders_apart() {
        let times = StepTimes::default();
        times.record(2, 10.0, false);
        times.record(2, 20.0, false);
        times.record(2, 90.0, true);
        times.record(4, 30.0, false);
        let got = times.snapshot();
        assert_eq!(got.len(), 2);
        assert!((got[0].ms_per_step - 15.0).abs() < 1e-9);
        assert_eq!(got[0].mean_ms_per_step(), Some(15.0));
        assert_eq!(got[0].mean_ms_per_step_while_finishing(), Some(90.0));
        assert_eq!(got[0].ms_per_step_while_finishing, Some(90.0));
        assert!((got[1].ms_per_job_step() - 7.5).abs() < 1e-9);
    }
}
