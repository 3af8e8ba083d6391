//! Can `worker.concurrency` run in `worker.memory_budget`? The weights are loaded once and
//! shared by the whole batch; each job in it adds its own working memory, which grows with the
//! clip's length. The weights are measured (resident-set growth across the load); a job's
//! working memory is computed by the model from its shape.
//!
//! At start, the longest job the api admits must fit beside the weights, and so must a full
//! batch of the shortest: otherwise the setting could never be met. Between those, the engine
//! admits a job only when its memory fits beside the jobs already running, and the rest wait.

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
    /// Working memory of one job of [`SHORTEST_JOB_SECONDS`].
    pub shortest_job_bytes: u64,
}

/// The shortest job a request may ask for.
pub const SHORTEST_JOB_SECONDS: f64 = 1.0;

impl Footprint {
    /// The weights and `slots` jobs of `job_bytes` each.
    pub fn for_slots(&self, slots: usize, job_bytes: u64) -> u64 {
        self.model_bytes + slots as u64 * job_bytes
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

/// Refuses a budget in which not even one job of `job_seconds` (`limits.max_duration_seconds`)
/// fits beside the weights, or a concurrency whose batch could never fill even with the
/// shortest jobs, naming both keys.
pub fn check_budget(
    settings: &WorkerSettings,
    job_seconds: f64,
    footprint: &Footprint,
) -> Result<(), WorkerError> {
    let Some(budget) = settings.memory_budget else {
        return Ok(());
    };
    let slots = settings.concurrency;
    let one_longest = footprint.for_slots(1, footprint.per_job_bytes);
    if one_longest > budget.0 {
        return Err(WorkerError::MemoryBudget(format!(
            "worker.memory_budget is {budget} but one job of {job_seconds} s needs about {} \
             (model {} + {} for the job): not even one job fits; raise worker.memory_budget, \
             lower limits.max_duration_seconds or use a smaller or quantized model",
            ByteSize(one_longest),
            ByteSize(footprint.model_bytes),
            ByteSize(footprint.per_job_bytes),
        )));
    }
    let full_batch = footprint.for_slots(slots, footprint.shortest_job_bytes);
    if full_batch <= budget.0 {
        return Ok(());
    }
    let fits = (budget.0 - footprint.model_bytes) / footprint.shortest_job_bytes.max(1);
    Err(WorkerError::MemoryBudget(format!(
        "worker.concurrency = {slots} can never run: {slots} jobs of {SHORTEST_JOB_SECONDS} s \
         already need about {} (model {} + {slots} × {}) but worker.memory_budget is {budget}; \
         set worker.concurrency to at most {fits} or raise worker.memory_budget",
        ByteSize(full_batch),
        ByteSize(footprint.model_bytes),
        ByteSize(footprint.shortest_job_bytes),
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
        shortest_job_bytes: 10,
    };

    #[test]
    fn no_budget_means_no_check() {
        assert!(check_budget(&settings(64, None), 30.0, &FOOTPRINT).is_ok());
    }

    #[test]
    fn a_batch_that_fits_only_with_shorter_jobs_is_allowed_and_admitted_by_memory() {
        // 3 longest jobs (1300) do not fit in 1250, but 3 shortest (1030) do: the engine then
        // runs as many as fit at a time.
        assert!(check_budget(&settings(3, Some(1250)), 30.0, &FOOTPRINT).is_ok());
    }

    #[test]
    fn a_concurrency_that_could_never_fill_is_refused_naming_both_keys() {
        let err = check_budget(&settings(30, Some(1250)), 30.0, &FOOTPRINT)
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.concurrency = 30"), "{err}");
        assert!(err.contains("worker.memory_budget"), "{err}");
        assert!(err.contains("at most 25"), "{err}");
    }

    #[test]
    fn a_budget_below_one_longest_job_says_nothing_fits() {
        let err = check_budget(&settings(1, Some(1050)), 30.0, &FOOTPRINT)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not even one job fits"), "{err}");
    }
}
