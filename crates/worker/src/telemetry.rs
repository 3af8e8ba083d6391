//! Job metrics through the `metrics` facade (names and buckets in `coda_jobs::telemetry`).
//! Recording is free when no recorder is installed (a worker process on its own).

use coda_jobs::telemetry::{
    DECODE_MS_PER_STEP, JOBS_FINISHED, JOBS_STARTED, JOB_RUN_SECONDS, JOB_WAIT_SECONDS,
    REAL_TIME_FACTOR,
};
use coda_jobs::{Finish, JobId, Outcome};

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

/// A job reached an outcome without running (canceled while queued, too many attempts).
pub(crate) fn settled(outcome: &'static str, reason: &'static str) {
    metrics::counter!(JOBS_FINISHED, "outcome" => outcome, "reason" => reason).increment(1);
}

/// A run ended.
pub(crate) fn finished(finish: &Finish) {
    let (outcome, reason) = match &finish.outcome {
        Outcome::Succeeded { .. } => ("succeeded", "completed"),
        Outcome::Canceled => ("canceled", "canceled_while_running"),
        Outcome::Failed { error } if error.starts_with("the model crashed") => {
            ("failed", "model_crashed")
        }
        Outcome::Failed { .. } => ("failed", "model_error"),
    };
    settled(outcome, reason);
    metrics::histogram!(JOB_RUN_SECONDS, "outcome" => outcome).record(finish.compute_seconds);
    if let Outcome::Succeeded { audio_seconds } = finish.outcome {
        if let Some(ms) = finish.ms_per_step() {
            metrics::histogram!(DECODE_MS_PER_STEP).record(ms);
        }
        if audio_seconds > 0.0 {
            metrics::histogram!(REAL_TIME_FACTOR).record(finish.compute_seconds / audio_seconds);
        }
    }
}
