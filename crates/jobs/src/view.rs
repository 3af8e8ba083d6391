//! What clients see. Times are RFC 3339 UTC strings; durations are seconds.

use serde::Serialize;
use utoipa::ToSchema;

use crate::id::{JobId, JobStatus};
use crate::range::Range;
use crate::request::JobParams;
use crate::stage::JobStage;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobView {
    pub id: JobId,
    pub status: JobStatus,
    /// Place in line while queued: 1 = next to start.
    pub position: Option<u64>,
    /// Queued jobs that will start before this one.
    pub jobs_ahead: Option<u64>,
    /// Expected seconds until start and until finish, from now; absent once finished.
    pub eta: Option<Eta>,
    /// Decoding progress while running.
    pub progress: Option<Progress>,
    /// What the worker is doing while the job runs.
    pub stage: Option<JobStage>,
    pub params: JobParams,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Where the WAV can be fetched once the job succeeded.
    pub audio_url: Option<String>,
    pub error: Option<String>,
    /// How many times a worker started this job (a crash leads to another start).
    pub attempts: u32,
    pub accounting: Option<Accounting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Eta {
    pub start_seconds: Range,
    pub finish_seconds: Range,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Progress {
    pub step: u64,
    pub total: u64,
    /// `step / total`, 0..=1.
    pub fraction: f64,
    /// Jobs being composed in the same pass as this one, itself included (1 when alone): the
    /// worker makes several tracks at once.
    pub together: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Accounting {
    /// From submission to start (or to now while queued).
    pub queue_wait_seconds: f64,
    /// Wall time the model spent on the job.
    pub compute_seconds: Option<f64>,
    /// Length of the audio produced.
    pub audio_seconds: Option<f64>,
    /// compute_seconds / audio_seconds: below 1 is faster than real time.
    pub real_time_factor: Option<f64>,
    /// compute_seconds × worker.device_watts, when the power draw is configured.
    pub energy_wh: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueueView {
    /// Jobs waiting to start.
    pub pending: u64,
    pub running: u64,
    /// Worker processes that sent a heartbeat recently.
    pub workers_alive: u64,
    /// Jobs the live workers run at once (the configured value when none is alive).
    pub concurrency: u64,
    /// Measured decoding speed (moving average); absent before the first measurement.
    pub ms_per_step: Option<f64>,
    /// Expected wait before a new job of the default length would start.
    pub expected_wait_seconds: Range,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Submitted {
    pub view: JobView,
    /// Secret that allows cancelling this job; shown once, stored only as a hash.
    pub cancel_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Page {
    /// Newest first.
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}
