//! The worker's side of the contract: claim bookkeeping, progress, cancel checks, outcomes,
//! speed measurements and liveness. Progress writes are the caller's to make best-effort;
//! outcome writes must succeed (they release admission slots and fill the ledger).

use apalis_redis::{Config, ConnectionManager, RedisStorage};
use tracing::warn;

use crate::error::Error;
use crate::eta::ModelShape;
use crate::id::{JobId, JobStatus};
use crate::queue::{field, QueuedJob, StartOutcome};
use crate::service::Coda;
use crate::time::now_ms;

/// What to do with a claimed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Run it; this is attempt number `attempts` (1-based).
    Run { attempts: u32 },
    /// Nothing to do: it already finished (a redelivery) or its record is gone.
    Skip,
    /// It was cancelled before it started; recorded as canceled.
    Canceled,
    /// It was started `max_attempts` times already (each start ended with the worker gone);
    /// recorded as failed.
    Exhausted { attempts: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded { audio_seconds: f64 },
    Failed { error: String },
    Canceled,
}

/// How a run ended and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    pub outcome: Outcome,
    /// Wall time from start of the model call to the WAV on disk.
    pub compute_seconds: f64,
    /// Decoding steps done and the time they took (for ms/step).
    pub decode_steps: u64,
    pub decode_ms: f64,
    /// Prompt encoding + audio rendering time.
    pub overhead_ms: f64,
}

impl Finish {
    pub fn ms_per_step(&self) -> Option<f64> {
        (self.decode_steps > 0 && self.decode_ms > 0.0)
            .then(|| self.decode_ms / self.decode_steps as f64)
    }
}

/// Facts about the loaded model that estimates depend on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFacts {
    pub frame_rate: f64,
    pub codebooks: u64,
}

#[derive(Debug, Clone)]
pub struct WorkerLink {
    coda: Coda,
    name: String,
}

impl WorkerLink {
    pub(crate) fn new(coda: Coda, name: &str) -> Self {
        WorkerLink {
            coda,
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn coda(&self) -> &Coda {
        &self.coda
    }

    /// The apalis config with the queue name set; the worker adds its own tuning.
    pub fn apalis_config(&self) -> Config {
        crate::queue::Queue::apalis_config(&self.coda.settings().redis.namespace)
    }

    pub fn redis(&self) -> ConnectionManager {
        self.coda.queue_handle().conn()
    }

    pub fn storage(&self, config: Config) -> RedisStorage<QueuedJob> {
        RedisStorage::new(self.redis()).with_config(config)
    }

    /// Decides whether a claimed job runs, counting the attempt, and records the start.
    pub async fn start(&self, id: JobId) -> Result<Start, Error> {
        let max_attempts = self.coda.settings().worker.max_attempts;
        let now = now_ms();
        let queue = self.coda.queue_handle();
        match queue.start(id, &self.name, now, max_attempts).await? {
            StartOutcome::Run { attempts } => {
                self.ledger_update(id, |row| {
                    row.status = JobStatus::Running;
                    row.started_ms = Some(now);
                    row.attempts = attempts;
                    row.worker = Some(self.name.clone());
                })
                .await?;
                Ok(Start::Run { attempts })
            }
            StartOutcome::Missing | StartOutcome::Finished => Ok(Start::Skip),
            StartOutcome::Canceled { .. } => {
                self.finish(id, &Finish::nothing(Outcome::Canceled)).await?;
                Ok(Start::Canceled)
            }
            StartOutcome::Exhausted { attempts } => {
                let error = format!(
                    "gave up after {attempts} attempts: the worker stopped while running this job every time"
                );
                self.finish(id, &Finish::nothing(Outcome::Failed { error }))
                    .await?;
                Ok(Start::Exhausted { attempts })
            }
        }
    }

    /// `stage` is `encoding_prompt`, `composing` or `rendering_audio`.
    pub async fn stage(&self, id: JobId, stage: &str) -> Result<(), Error> {
        self.coda
            .queue_handle()
            .set_fields(id, &[(field::STAGE, stage.to_string())])
            .await
    }

    pub async fn progress(&self, id: JobId, step: u64, total: u64) -> Result<(), Error> {
        let fields = [
            (field::STAGE, "composing".to_string()),
            (field::STEP, step.to_string()),
            (field::STEPS, total.to_string()),
        ];
        self.coda.queue_handle().set_fields(id, &fields).await
    }

    pub async fn cancel_requested(&self, id: JobId) -> Result<bool, Error> {
        self.coda.queue_handle().cancel_requested(id).await
    }

    /// Records the outcome in Redis and the ledger, releases the admission slots and folds the
    /// measured speed into the estimates.
    pub async fn finish(&self, id: JobId, finish: &Finish) -> Result<(), Error> {
        let now = now_ms();
        let (status, error, audio_seconds) = match &finish.outcome {
            Outcome::Succeeded { audio_seconds } => {
                (JobStatus::Succeeded, None, Some(*audio_seconds))
            }
            Outcome::Failed { error } => (JobStatus::Failed, Some(error.clone()), None),
            Outcome::Canceled => (JobStatus::Canceled, None, None),
        };
        let ran = finish.compute_seconds > 0.0;
        let ms_per_step = finish.ms_per_step();
        let mut fields = vec![
            (field::STATUS, status.as_str().to_string()),
            (field::FINISHED, now.to_string()),
        ];
        if let Some(e) = &error {
            fields.push((field::ERROR, e.clone()));
        }
        if let Some(a) = audio_seconds {
            fields.push((field::AUDIO_SECONDS, a.to_string()));
        }
        if ran {
            fields.push((field::COMPUTE_SECONDS, finish.compute_seconds.to_string()));
        }
        if let Some(m) = ms_per_step {
            fields.push((field::MS_PER_STEP, m.to_string()));
        }
        let queue = self.coda.queue_handle();
        self.ledger_update(id, |row| {
            row.status = status;
            row.finished_ms = Some(now);
            row.error = error.clone();
            row.audio_seconds = audio_seconds;
            row.compute_seconds = ran.then_some(finish.compute_seconds);
            row.ms_per_step = ms_per_step;
        })
        .await?;
        // The ledger first: whoever sees the final status in Redis finds it in history too.
        queue
            .finish(id, self.coda.retention_seconds(), &fields)
            .await?;
        // Only complete runs say how fast a whole job is.
        if let (Some(m), JobStatus::Succeeded) = (ms_per_step, status) {
            if let Err(e) = queue.record_speed(m, Some(finish.overhead_ms)).await {
                warn!(%id, error = %e, "could not record the decoding speed");
            }
        }
        Ok(())
    }

    /// Seeds the estimates from a measurement outside the queue (the warm-up run).
    pub async fn record_speed(&self, ms_per_step: f64, overhead_ms: f64) -> Result<(), Error> {
        self.coda
            .queue_handle()
            .record_speed(ms_per_step, Some(overhead_ms))
            .await
    }

    pub async fn publish_model(&self, facts: ModelFacts) -> Result<(), Error> {
        let shape = ModelShape {
            frame_rate: facts.frame_rate,
            codebooks: facts.codebooks,
        };
        self.coda.queue_handle().publish_model(shape).await
    }

    /// Tells api processes this worker is alive and how many jobs it runs at once.
    pub async fn heartbeat(&self, slots: usize) -> Result<(), Error> {
        self.coda
            .queue_handle()
            .heartbeat(&self.name, slots, now_ms())
            .await
    }

    /// Removes this worker from the liveness records (clean shutdown).
    pub async fn leave(&self) -> Result<(), Error> {
        self.coda.queue_handle().leave(&self.name).await
    }

    /// Drops the queue's records of jobs whose retention expired.
    pub async fn sweep(&self) -> Result<u64, Error> {
        self.coda.queue_handle().sweep_finished().await
    }

    async fn ledger_update(
        &self,
        id: JobId,
        change: impl FnOnce(&mut crate::ledger::LedgerRow),
    ) -> Result<(), Error> {
        let ledger = self.coda.ledger();
        match ledger.get(id).await? {
            Some(mut row) => {
                change(&mut row);
                ledger.update(&row).await
            }
            None => {
                warn!(%id, "job missing from the ledger");
                Ok(())
            }
        }
    }
}

impl Finish {
    /// An outcome reached without running the model.
    pub fn nothing(outcome: Outcome) -> Self {
        Finish {
            outcome,
            compute_seconds: 0.0,
            decode_steps: 0,
            decode_ms: 0.0,
            overhead_ms: 0.0,
        }
    }
}
