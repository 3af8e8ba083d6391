//! The worker's side of the contract: claim bookkeeping, progress, cancel checks, outcomes,
//! speed measurements and liveness. Progress writes are the caller's to make best-effort;
//! outcome writes must succeed (they release admission slots and fill the ledger).

use std::path::PathBuf;
use std::sync::Arc;

use apalis_redis::{Config, ConnectionManager, RedisStorage};
use tracing::warn;

use crate::core::Core;
use crate::error::Error;
use crate::eta::{BatchSpeed, ModelShape};
use crate::id::{JobId, JobStatus};
use crate::outcome::{FailureReason, Finish, ModelFacts, Outcome, Start};
use crate::queue::{field, Queue, QueuedJob, StartOutcome};
use crate::settings::Settings;
use crate::stage::JobStage;
use crate::time::now_ms;

#[derive(Debug, Clone)]
pub struct WorkerLink {
    core: Arc<Core>,
    name: String,
}

impl WorkerLink {
    pub(crate) fn new(core: Arc<Core>, name: &str) -> Self {
        WorkerLink {
            core,
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// Where the job's WAV goes: `<storage.dir>/audio/<id>.wav`.
    pub fn audio_path(&self, id: JobId) -> PathBuf {
        self.core.audio_path(id)
    }

    fn queue(&self) -> &Queue {
        &self.core.queue
    }

    /// The apalis config with the queue name set; the worker adds its own tuning.
    pub fn apalis_config(&self) -> Config {
        Queue::apalis_config(&self.core.settings.redis.namespace)
    }

    pub fn redis(&self) -> ConnectionManager {
        self.queue().conn()
    }

    pub fn storage(&self, config: Config) -> RedisStorage<QueuedJob> {
        RedisStorage::new(self.redis()).with_config(config)
    }

    /// Decides whether a claimed job runs, counting the attempt, and records the start.
    pub async fn start(&self, id: JobId) -> Result<Start, Error> {
        let max_attempts = self.core.settings.fleet.max_attempts;
        let now = now_ms();
        let queue = self.queue();
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
                self.finish(
                    id,
                    &Finish::nothing(Outcome::Failed {
                        reason: FailureReason::TooManyAttempts,
                        error,
                    }),
                )
                .await?;
                Ok(Start::Exhausted { attempts })
            }
        }
    }

    pub async fn stage(&self, id: JobId, stage: JobStage) -> Result<(), Error> {
        self.queue()
            .set_fields(id, &[(field::STAGE, stage.as_str().to_string())])
            .await
    }

    /// `together`: jobs decoded in the same pass, this one included.
    pub async fn progress(
        &self,
        id: JobId,
        step: u64,
        total: u64,
        together: u64,
    ) -> Result<(), Error> {
        let fields = [
            (field::STAGE, JobStage::Composing.as_str().to_string()),
            (field::STEP, step.to_string()),
            (field::STEPS, total.to_string()),
            (field::TOGETHER, together.max(1).to_string()),
        ];
        self.queue().set_fields(id, &fields).await
    }

    pub async fn cancel_requested(&self, id: JobId) -> Result<bool, Error> {
        self.queue().cancel_requested(id).await
    }

    /// Records the outcome in Redis and the ledger, releases the admission slots and folds the
    /// measured speed into the estimates.
    pub async fn finish(&self, id: JobId, finish: &Finish) -> Result<(), Error> {
        let now = now_ms();
        let (status, error, audio_seconds) = match &finish.outcome {
            Outcome::Succeeded { audio_seconds } => {
                (JobStatus::Succeeded, None, Some(*audio_seconds))
            }
            Outcome::Failed { error, .. } => (JobStatus::Failed, Some(error.clone()), None),
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
        let queue = self.queue();
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
            .finish(id, self.core.retention_seconds(), &fields)
            .await?;
        // Only complete runs say how fast a whole job is, and only those decoded alone say how
        // fast one job is: batched steps are measured by batch size (`record_batch_speeds`).
        let alone = finish.together < 1.1;
        if let (Some(m), JobStatus::Succeeded, true) = (ms_per_step, status, alone) {
            if let Err(e) = queue.record_speed(m, Some(finish.overhead_ms)).await {
                warn!(%id, error = %e, "could not record the decoding speed");
            }
        }
        Ok(())
    }

    /// Publishes the step time of a batch at each size measured (warm-up, then the engine's
    /// running averages): how the estimates account for jobs decoded together.
    pub async fn record_batch_speeds(&self, speeds: &[BatchSpeed]) -> Result<(), Error> {
        self.queue().record_batch_speeds(speeds).await
    }

    /// Seeds the estimates from a measurement outside the queue (the warm-up run).
    pub async fn record_speed(&self, ms_per_step: f64, overhead_ms: f64) -> Result<(), Error> {
        self.queue()
            .record_speed(ms_per_step, Some(overhead_ms))
            .await
    }

    pub async fn publish_model(&self, facts: ModelFacts) -> Result<(), Error> {
        let shape = ModelShape {
            frame_rate: facts.frame_rate,
            codebooks: facts.codebooks,
        };
        self.queue().publish_model(shape).await
    }

    /// Tells api processes this worker is alive and how many jobs it runs at once.
    pub async fn heartbeat(&self, slots: usize) -> Result<(), Error> {
        self.queue().heartbeat(&self.name, slots, now_ms()).await
    }

    /// Removes this worker from the liveness records (clean shutdown).
    pub async fn leave(&self) -> Result<(), Error> {
        self.queue().leave(&self.name).await
    }

    /// Drops the queue's records of jobs whose retention expired.
    pub async fn sweep(&self) -> Result<u64, Error> {
        self.queue().sweep_finished().await
    }

    async fn ledger_update(
        &self,
        id: JobId,
        change: impl FnOnce(&mut crate::ledger::LedgerRow),
    ) -> Result<(), Error> {
        let ledger = &self.core.ledger;
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
