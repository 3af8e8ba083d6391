//! Job metrics through the `metrics` facade (names and buckets in `coda_jobs::telemetry`).
//! Recording is free when no recorder is installed (a worker process on its own).

use coda_jobs::telemetry::{
    DECODE_MS_PER_STEP, JOBS_FINISHED, JOBS_STARTED, JOB_BATCH_JOBS, JOB_RUN_SECONDS,
    JOB_WAIT_SECONDS, REAL_TIME_FACTOR,
};
use coda_jobs::{FailureReason, Finish, JobId, Outcome};

/// A run begins. The wait is measured from submission (the id's timestamp) on first starts
/// only: a retry's wait would include the lost run.
pub(crate) fn started(id: JobId, attempts: u32, now_ms: i64) {
    let retry = if attempts > 1 { "true" } else { "false" };
    metrics::counter!(JOBS_STARTED, "retry" => retry).increment(1);
    if attempts == 1 {
        let waited = (now_ms - id.timestamp_ms()).max(0) as f64 / 1000.0;
        metrics::histogram!(JOB_WAIT_SECONDS).record(waited);
    }
}

/// How a job left the worker: the `outcome` and `reason` labels of the finished-jobs counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    Completed,
    CanceledBeforeStart,
    CanceledWhileRunning,
    Failed(FailureReason),
}

impl Settled {
    fn labels(self) -> (&'static str, &'static str) {
        match self {
            Settled::Completed => ("succeeded", "completed"),
            Settled::CanceledBeforeStart => ("canceled", "canceled_before_start"),
            Settled::CanceledWhileRunning => ("canceled", "canceled_while_running"),
            Settled::Failed(reason) => ("failed", reason.as_str()),
        }
    }
}

/// A job reached an outcome, run or not.
pub(crate) fn settled(how: Settled) {
    let (outcome, reason) = how.labels();
    metrics::counter!(JOBS_FINISHED, "outcome" => outcome, "reason" => reason).increment(1);
}

/// A run ended.
pub(crate) fn finished(finish: &Finish) {
    let how = match &finish.outcome {
        Outcome::Succeeded { .. } => Settled::Completed,
        Outcome::Canceled => Settled::CanceledWhileRunning,
        Outcome::Failed { reason, .. } => Settled::Failed(*reason),
    };
    settled(how);
    let (outcome, _) = how.labels();
    metrics::histogram!(JOB_RUN_SECONDS, "outcome" => outcome).record(finish.compute_seconds);
    if let Outcome::Succeeded { audio_seconds } = finish.outcome {
        if let Some(ms) = finish.ms_per_step() {
            metrics::histogram!(DECODE_MS_PER_STEP).record(ms);
        }
        metrics::histogram!(JOB_BATCH_JOBS).record(finish.together);
        if audio_seconds > 0.0 {
            metrics::histogram!(REAL_TIME_FACTOR).record(finish.compute_seconds / audio_seconds);
        }
    }
}
