//! Names and histogram buckets of the job metrics. The worker records them through the
//! `metrics` facade; whoever installs the process's Prometheus recorder (the api) sets these
//! buckets. In `coda up` both share one recorder and `/metrics` shows everything; a worker
//! process on its own records into no recorder and exposes nothing.

/// Seconds from submission to the start of the run that finished (histogram).
pub const JOB_WAIT_SECONDS: &str = "coda_job_wait_seconds";
/// Machine time of a run by `outcome`: its prompt, its render and its share of each decoding
/// step it took with other jobs; a run that did not finish, its wall time (histogram).
pub const JOB_RUN_SECONDS: &str = "coda_job_run_seconds";
/// Milliseconds per decoding step of a successful run (histogram).
pub const DECODE_MS_PER_STEP: &str = "coda_decode_ms_per_step";
/// Compute seconds per second of audio of a successful run; below 1 is faster than real time
/// (histogram).
pub const REAL_TIME_FACTOR: &str = "coda_job_real_time_factor";
/// Jobs a successful run's decoding steps were shared with on average, itself included: 1
/// alone, up to `worker.concurrency` (histogram).
pub const JOB_BATCH_JOBS: &str = "coda_job_batch_jobs";
/// Finished jobs by `outcome` (`succeeded`, `failed`, `canceled`) and `reason` (counter).
pub const JOBS_FINISHED: &str = "coda_jobs_finished_total";
/// Starts of a job, by whether it is a retry after a lost run (counter).
pub const JOBS_STARTED: &str = "coda_jobs_started_total";

pub const WAIT_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
pub const RUN_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];
pub const MS_PER_STEP_BUCKETS: &[f64] =
    &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
pub const RTF_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
pub const BATCH_BUCKETS: &[f64] = &[1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0];

/// Every histogram with its buckets, for the recorder's set-up.
pub const HISTOGRAMS: &[(&str, &[f64])] = &[
    (JOB_WAIT_SECONDS, WAIT_BUCKETS),
    (JOB_RUN_SECONDS, RUN_BUCKETS),
    (DECODE_MS_PER_STEP, MS_PER_STEP_BUCKETS),
    (REAL_TIME_FACTOR, RTF_BUCKETS),
    (JOB_BATCH_JOBS, BATCH_BUCKETS),
];
