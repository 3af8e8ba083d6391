//! Does `worker.concurrency` fit in `worker.memory_budget`? The weights are loaded once and
//! shared by every job slot; each running job adds its own working memory. The weights are
//! measured (resident-set growth across the load); a job's working memory is computed by the
//! model from its shape for the longest job the api admits, since it grows with the clip's
//! length.

use coda_musicgen::MusicGen;

use crate::bytesize::ByteSize;
use crate::error::WorkerError;
use crate::settings::WorkerSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Resident memory the loaded model added to the process.
    pub model_bytes: u64,
    /// Working memory of one job of `limits.max_duration_seconds`.
    pub per_job_bytes: u64,
}

impl Footprint {
    pub fn for_slots(&self, slots: usize) -> u64 {
        self.model_bytes + slots as u64 * self.per_job_bytes
    }
}

/// Resident set size of this process (`VmRSS`), where the OS reports it.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Working memory of one job of `seconds`, as the model computes it from its shape (attention
/// cache while composing, audio rendering after).
pub fn per_job_bytes(model: &MusicGen, seconds: f64) -> u64 {
    model.job_memory_bytes(coda_jobs::frames_for_seconds(seconds, model.frame_rate()))
}

/// Refuses a concurrency whose memory exceeds the budget, naming both keys. `job_seconds` is
/// the longest job admitted (`limits.max_duration_seconds`).
pub fn check_budget(
    settings: &WorkerSettings,
    job_seconds: f64,
    footprint: &Footprint,
) -> Result<(), WorkerError> {
    let Some(budget) = settings.memory_budget else {
        return Ok(());
    };
    let slots = settings.concurrency;
    let needed = footprint.for_slots(slots);
    if needed <= budget.0 {
        return Ok(());
    }
    let fits = budget
        .0
        .checked_sub(footprint.model_bytes)
        .map(|left| left / footprint.per_job_bytes.max(1))
        .unwrap_or(0);
    Err(WorkerError::MemoryBudget(format!(
        "worker.concurrency = {slots} needs about {} (model {} + {slots} × {} per job of {} s) \
         but worker.memory_budget is {}; {}",
        ByteSize(needed),
        ByteSize(footprint.model_bytes),
        ByteSize(footprint.per_job_bytes),
        job_seconds,
        budget,
        if fits == 0 {
            "not even one job fits: raise worker.memory_budget or use a smaller or quantized model"
                .to_string()
        } else {
            format!("set worker.concurrency to at most {fits} or raise worker.memory_budget")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(concurrency: usize, budget: Option<u64>) -> WorkerSettings {
        WorkerSettings {
            concurrency,
            memory_budget: budget.map(ByteSize),
            ..WorkerSettings::default()
        }
    }

    const FOOTPRINT: Footprint = Footprint {
        model_bytes: 1000,
        per_job_bytes: 100,
    };

    #[test]
    fn no_budget_means_no_check() {
        assert!(check_budget(&settings(64, None), 30.0, &FOOTPRINT).is_ok());
    }

    #[test]
    fn weights_count_once_and_each_slot_adds_its_job() {
        assert!(check_budget(&settings(2, Some(1200)), 30.0, &FOOTPRINT).is_ok());
        let err = check_budget(&settings(3, Some(1250)), 30.0, &FOOTPRINT)
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.concurrency = 3"), "{err}");
        assert!(err.contains("worker.memory_budget"), "{err}");
        assert!(err.contains("at most 2"), "{err}");
    }

    #[test]
    fn a_budget_below_the_weights_says_nothing_fits() {
        let err = check_budget(&settings(1, Some(500)), 30.0, &FOOTPRINT)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not even one job fits"), "{err}");
    }
}
