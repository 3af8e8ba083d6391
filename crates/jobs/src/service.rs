//! `Coda`: the facade the api, the worker and the binary share.

use std::path::PathBuf;
use std::sync::Arc;

use tracing::warn;

use crate::assemble::{self, Context};
use crate::core::Core;
use crate::error::{CancelError, Error, SubmitError};
use crate::eta::{self, Ahead};
use crate::id::{JobId, JobStatus};
use crate::ledger::{Ledger, LedgerRow};
use crate::queue::{field, sha256_hex, Admission, CancelOutcome, QueuedJob};
use crate::range::Range;
use crate::request::JobParams;
use crate::settings::Settings;
use crate::time::now_ms;
use crate::view::{JobView, Page, QueueView, Submitted};
use crate::worker_link::WorkerLink;

const MAX_PAGE: u32 = 100;
/// A job of this length stands for "a new job" in queue-wide estimates.
const DEFAULT_JOB_SECONDS: f64 = 10.0;

/// Cheap to clone: one Redis connection manager and one SQL pool behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Coda {
    inner: Arc<Core>,
}

impl Coda {
    /// Connects to Redis and the ledger (applying migrations) after validating the settings.
    pub async fn connect(settings: &Settings) -> Result<Coda, Error> {
        Ok(Coda {
            inner: Arc::new(Core::connect(settings).await?),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// The worker side of the contract, for a worker process named `name`.
    pub fn worker_link(&self, name: &str) -> WorkerLink {
        WorkerLink::new(self.inner.clone(), name)
    }

    /// `<storage.dir>/audio/<id>.wav`.
    pub fn audio_path(&self, id: JobId) -> PathBuf {
        self.inner.audio_path(id)
    }

    /// Admits, records and enqueues a job. `client` identifies who asked (API key name or
    /// address) for the per-client cap.
    pub async fn submit(&self, params: JobParams, client: &str) -> Result<Submitted, SubmitError> {
        let queue = &self.inner.queue;
        let limits = &self.inner.settings.queue;
        let id = JobId::new();
        let token = cancel_token();
        let created_ms = now_ms();
        let steps = queue.model_shape().await?.steps(params.duration_seconds);
        let params_json =
            serde_json::to_string(&params).map_err(|e| Error::Corrupt(e.to_string()))?;
        let fields = [
            (field::STATUS, JobStatus::Queued.as_str().to_string()),
            (field::PARAMS, params_json),
            (field::TOKEN, sha256_hex(&token)),
            (field::CREATED, created_ms.to_string()),
            (field::STEPS, steps.to_string()),
            (field::ATTEMPTS, "0".to_string()),
        ];
        let (admission, count) = queue
            .admit(
                id,
                client,
                limits.max_pending,
                limits.max_pending_per_client,
                &fields,
            )
            .await?;
        match admission {
            Admission::Admitted => {}
            Admission::QueueFull => {
                let (retry_after_seconds, expected_wait) = self.full_queue_wait(count).await?;
                return Err(SubmitError::QueueFull {
                    retry_after_seconds,
                    expected_wait,
                });
            }
            Admission::ClientLimit => {
                let retry_after_seconds = self.client_retry_after(client).await?;
                return Err(SubmitError::ClientLimit {
                    limit: count as usize,
                    retry_after_seconds,
                });
            }
        }
        let row = LedgerRow {
            id,
            params: params.clone(),
            client: client.to_string(),
            status: JobStatus::Queued,
            created_ms,
            started_ms: None,
            finished_ms: None,
            attempts: 0,
            audio_seconds: None,
            compute_seconds: None,
            ms_per_step: None,
            error: None,
            worker: None,
        };
        if let Err(e) = self.inner.ledger.insert(&row).await {
            self.forget(id, client).await;
            return Err(e.into());
        }
        if let Err(e) = queue.push(QueuedJob { id, params }).await {
            self.forget(id, client).await;
            if let Err(e) = self.inner.ledger.delete(id).await {
                warn!(%id, error = %e, "could not remove the ledger row of a job that was never queued");
            }
            return Err(e.into());
        }
        let view = self.job(id).await?.ok_or_else(|| {
            Error::Corrupt(format!("job {id} vanished right after it was queued"))
        })?;
        Ok(Submitted {
            view,
            cancel_token: token,
        })
    }

    async fn forget(&self, id: JobId, client: &str) {
        if let Err(e) = self.inner.queue.forget(id, client).await {
            warn!(%id, error = %e, "could not release the admission slot of a job that was never queued");
        }
    }

    /// Live state from Redis; the ledger once the live state has expired.
    pub async fn job(&self, id: JobId) -> Result<Option<JobView>, Error> {
        let queue = &self.inner.queue;
        let Some(live) = queue.live(id).await? else {
            let row = self.inner.ledger.get(id).await?;
            return Ok(row.map(|r| assemble::from_row(&r, &self.context(eta::Speed::default(), 1))));
        };
        let backlog = if live.status.is_final() {
            Default::default()
        } else {
            queue.backlog(Some(id)).await?
        };
        let speed = queue.speed().await?;
        let concurrency = self.concurrency().await?;
        let (view, absolute) =
            assemble::from_live(id, &live, &backlog, &self.context(speed, concurrency));
        if let Some(((s_lo, s_hi), (f_lo, f_hi))) = absolute {
            // Best-effort: only keeps the next answer steady.
            let fields = [
                (field::ETA_START, format!("{s_lo:.0},{s_hi:.0}")),
                (field::ETA_FINISH, format!("{f_lo:.0},{f_hi:.0}")),
            ];
            if let Err(e) = queue.set_fields(id, &fields).await {
                warn!(%id, error = %e, "could not store the eta");
            }
        }
        Ok(Some(view))
    }

    /// Cancels a queued job at once, or asks the worker to stop a running one (it stops
    /// before its next decoding step). Requires the token handed out at submission.
    pub async fn cancel(&self, id: JobId, token: &str) -> Result<JobView, CancelError> {
        let now = now_ms();
        let outcome = self
            .inner
            .queue
            .cancel(id, &sha256_hex(token), now, self.inner.retention_seconds())
            .await?;
        match outcome {
            CancelOutcome::NotFound => {
                return match self.inner.ledger.get(id).await? {
                    Some(row) if row.status.is_final() => {
                        Err(CancelError::AlreadyFinished { status: row.status })
                    }
                    _ => Err(CancelError::NotFound),
                }
            }
            CancelOutcome::Forbidden => return Err(CancelError::Forbidden),
            CancelOutcome::Finished => {
                let status = self
                    .job(id)
                    .await?
                    .map(|v| v.status)
                    .unwrap_or(JobStatus::Canceled);
                return Err(CancelError::AlreadyFinished { status });
            }
            CancelOutcome::Canceled => {
                if let Some(mut row) = self.inner.ledger.get(id).await? {
                    row.status = JobStatus::Canceled;
                    row.finished_ms = Some(now);
                    self.inner.ledger.update(&row).await?;
                }
            }
            CancelOutcome::Requested => {}
        }
        self.job(id).await?.ok_or(CancelError::NotFound)
    }

    /// Ledger history, newest first. `cursor` is the last id of the previous page.
    pub async fn history(&self, cursor: Option<&str>, limit: u32) -> Result<Page, Error> {
        let before = match cursor {
            Some(c) => Some(
                c.parse::<JobId>()
                    .map_err(|e| Error::BadCursor(e.to_string()))?,
            ),
            None => None,
        };
        let limit = limit.clamp(1, MAX_PAGE);
        let mut rows = self.inner.ledger.page(before, limit + 1).await?;
        let next_cursor = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id.to_string())
        });
        let ctx = self.context(eta::Speed::default(), 1);
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            // Unfinished jobs are told from their live state (position, progress).
            let live = if row.status.is_final() {
                None
            } else {
                self.job(row.id).await?
            };
            jobs.push(live.unwrap_or_else(|| assemble::from_row(&row, &ctx)));
        }
        Ok(Page {
            jobs,
            next_cursor: next_cursor.flatten(),
        })
    }

    pub async fn queue(&self) -> Result<QueueView, Error> {
        let queue = &self.inner.queue;
        let backlog = queue.backlog(None).await?;
        let speed = queue.speed().await?;
        let (workers_alive, _) = self.workers().await?;
        let concurrency = self.concurrency().await?;
        let ahead = Ahead {
            jobs: backlog.jobs_ahead,
            steps: backlog.steps_ahead,
            running_jobs: backlog.running_jobs,
            running_remaining_steps: backlog.running_remaining_steps,
            concurrency,
        };
        Ok(QueueView {
            pending: backlog.queued_total,
            running: backlog.running_jobs,
            workers_alive,
            concurrency,
            ms_per_step: speed.ms_per_step,
            expected_wait_seconds: eta::range(eta::start_seconds(&ahead, &speed), &speed),
        })
    }

    /// Ready when Redis and the ledger answer.
    pub async fn readiness(&self) -> Result<(), Error> {
        self.inner.queue.ping().await?;
        self.inner.ledger.ping().await
    }

    fn context(&self, speed: eta::Speed, concurrency: u64) -> Context<'_> {
        let s = &self.inner.settings;
        Context {
            now_ms: now_ms(),
            speed,
            concurrency,
            device_watts: s.fleet.device_watts,
            public_url: s.public_url.as_deref(),
        }
    }

    /// Live worker processes and their job slots.
    async fn workers(&self) -> Result<(u64, u64), Error> {
        // Three missed heartbeats and a worker is presumed gone.
        let window = 3 * 1000 * self.inner.settings.fleet.heartbeat_seconds as i64;
        self.inner.queue.workers_alive(now_ms() - window).await
    }

    /// Slots of the live workers, or the configured concurrency when none is alive.
    async fn concurrency(&self) -> Result<u64, Error> {
        let (alive, slots) = self.workers().await?;
        Ok(if alive == 0 {
            self.inner.settings.fleet.concurrency as u64
        } else {
            slots.max(1)
        })
    }

    /// `admitted` is the admission count, which may run ahead of the queue while other
    /// submits are between admission and push; those jobs are counted at the default length.
    async fn full_queue_wait(&self, admitted: u64) -> Result<(u64, Range), Error> {
        let queue = &self.inner.queue;
        let backlog = queue.backlog(None).await?;
        let speed = queue.speed().await?;
        let default_steps = queue.model_shape().await?.steps(DEFAULT_JOB_SECONDS);
        let concurrency = self.concurrency().await?;
        let unseen = admitted.saturating_sub(backlog.queued_total + backlog.running_jobs);
        let ahead = Ahead {
            jobs: backlog.jobs_ahead + unseen,
            steps: backlog.steps_ahead + unseen * default_steps,
            running_jobs: backlog.running_jobs,
            running_remaining_steps: backlog.running_remaining_steps,
            concurrency,
        };
        // A slot frees when the next job finishes: about one job's time per slot.
        let one_job = speed.job_seconds(default_steps, concurrency) / concurrency.max(1) as f64;
        let wait = eta::range(eta::start_seconds(&ahead, &speed), &speed);
        Ok((one_job.ceil().max(1.0) as u64, wait))
    }

    async fn client_retry_after(&self, client: &str) -> Result<u64, Error> {
        let oldest = self
            .inner
            .queue
            .client_jobs(client)
            .await?
            .into_iter()
            .min();
        let finish = match oldest {
            Some(id) => self
                .job(id)
                .await?
                .and_then(|v| v.eta)
                .map(|e| e.finish_seconds.high),
            None => None,
        };
        Ok(finish.unwrap_or(1.0).ceil().max(1.0) as u64)
    }
}

/// 32 random bytes, hex: unguessable, and only its SHA-256 is stored.
fn cancel_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
