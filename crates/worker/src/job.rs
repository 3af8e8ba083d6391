//! One job, from claim to recorded outcome.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use apalis::prelude::{AbortError, BoxDynError, Data};
use coda_engine::{Engine, Failure};
use coda_jobs::eta::BatchSpeed;
use coda_jobs::{FailureReason, Finish, JobId, JobParams, Outcome, QueuedJob, Start, WorkerLink};
use coda_musicgen::{Composition, GenerationParams, MusicGen};
use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::observer::observe;
use crate::telemetry::{self, Settled};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What every job slot shares: each slot hands its job to the one engine and awaits it.
pub(crate) struct Shared {
    pub link: WorkerLink,
    pub engine: Engine<MusicGen>,
}

/// The apalis handler. Outcomes that are final (success, failure, cancel, too many attempts)
/// are recorded by us and never retried by apalis; only infrastructure errors before the
/// outcome is recorded are left to apalis's retry.
pub(crate) async fn handle(job: QueuedJob, shared: Data<Arc<Shared>>) -> Result<(), BoxDynError> {
    let QueuedJob { id, params } = job;
    let link = &shared.link;
    match link.start(id).await? {
        Start::Run { attempts } => {
            info!(%id, attempts, "job started");
            telemetry::started(id, attempts, now_ms());
        }
        Start::Skip => return Ok(()),
        Start::Canceled => {
            info!(%id, "job was canceled before it started");
            telemetry::settled(Settled::CanceledBeforeStart);
            return Err(AbortError::new("canceled before start").into());
        }
        Start::Exhausted { attempts } => {
            warn!(%id, attempts, "job failed: too many attempts");
            telemetry::settled(Settled::Failed(FailureReason::TooManyAttempts));
            return Err(AbortError::new("too many attempts").into());
        }
    }
    let finish = run(&shared, id, params).await;
    link.finish(id, &finish).await?;
    telemetry::finished(&finish);
    publish_batch_speeds(&shared).await;
    match &finish.outcome {
        Outcome::Succeeded { audio_seconds } => {
            info!(%id, audio_seconds, compute_seconds = finish.compute_seconds, "job succeeded");
            Ok(())
        }
        Outcome::Canceled => {
            info!(%id, "job canceled while running");
            Err(AbortError::new("canceled").into())
        }
        Outcome::Failed { error, .. } => {
            warn!(%id, %error, "job failed");
            Err(AbortError::new(error.clone()).into())
        }
    }
}

/// Steps measured at each batch size this far, for the estimates of everyone waiting: sizes
/// with too few steps to average are left to the warm-up's figures.
async fn publish_batch_speeds(shared: &Shared) {
    const ENOUGH_STEPS: u64 = 50;
    let speeds: Vec<BatchSpeed> = shared
        .engine
        .step_times()
        .snapshot()
        .into_iter()
        .filter(|t| t.steps >= ENOUGH_STEPS)
        .map(|t| BatchSpeed {
            batch: t.batch as u64,
            ms_per_step: t.ms_per_step,
        })
        .collect();
    if let Err(e) = shared.link.record_batch_speeds(&speeds).await {
        warn!(error = %e, "could not record the batch speeds");
    }
}

/// Stops the generation when the handler is dropped mid-job (its job slot died, e.g. Redis went
/// away): the job is re-queued and runs again, so the orphaned run must not keep a core busy
/// or write a result.
struct StopOnDrop(Option<Arc<AtomicBool>>);

impl StopOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = &self.0 {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

async fn run(shared: &Arc<Shared>, id: JobId, params: JobParams) -> Finish {
    let stop = Arc::new(AtomicBool::new(false));
    let orphan_guard = StopOnDrop(Some(stop.clone()));
    let (observer, reporter) = observe(shared.link.clone(), id, stop.clone());
    let frame_rate = shared.engine.model().frame_rate();
    let frames = coda_jobs::frames_for_seconds(params.duration_seconds, frame_rate);
    let audio = shared.link.audio_path(id);
    let started = Instant::now();
    let request = Composition {
        params: GenerationParams {
            prompt: params.prompt,
            frames,
            top_k: params.top_k as usize,
            top_p: params.top_p,
            temperature: params.temperature,
            guidance_scale: params.guidance_scale,
            seed: params.seed,
        },
        observer: Box::new(observer),
    };
    let (tx, rx) = oneshot::channel();
    shared.engine.submit(request, move |answer| {
        // The slot may be gone (shutdown, a lost connection): the job is re-queued then.
        let _ = tx.send(answer);
    });
    let answer = rx.await.unwrap_or(Err(Failure::ShutDown));
    let written = match answer {
        Ok(generation) => tokio::task::spawn_blocking(move || {
            write_atomically(&audio, &generation.samples, generation.sample_rate)
                .map(|()| generation)
        })
        .await
        .map_err(|e| Failure::Panicked(e.to_string()))
        .and_then(|written| written.map_err(Failure::Model)),
        Err(failure) => Err(failure),
    };
    orphan_guard.disarm();
    let wall_seconds = started.elapsed().as_secs_f64();
    if let Err(e) = reporter.await {
        warn!(%id, error = %e, "progress reporter ended abnormally");
    }
    match written {
        Ok(g) => {
            let t = g.timings;
            Finish {
                outcome: Outcome::Succeeded {
                    audio_seconds: g.samples.len() as f64 / f64::from(g.sample_rate),
                },
                // Its own share of the machine: steps taken with others are split among them.
                compute_seconds: (t.text_ms + t.decode_share_ms + t.audio_ms) / 1e3,
                decode_steps: t.decode_steps as u64,
                decode_ms: t.decode_ms,
                overhead_ms: t.text_ms + t.audio_ms,
                together: t.together.max(1.0),
            }
        }
        Err(Failure::Stopped) if stop.load(Ordering::Relaxed) => Finish {
            compute_seconds: wall_seconds,
            ..Finish::nothing(Outcome::Canceled)
        },
        Err(Failure::Model(e)) => Finish {
            compute_seconds: wall_seconds,
            ..Finish::nothing(Outcome::Failed {
                reason: FailureReason::ModelError,
                error: e.to_string(),
            })
        },
        Err(failure) => Finish {
            compute_seconds: wall_seconds,
            ..Finish::nothing(Outcome::Failed {
                reason: FailureReason::ModelCrashed,
                error: failure.to_string(),
            })
        },
    }
}

/// A re-run after a crash overwrites the same file, and a reader never sees half a WAV.
fn write_atomically(
    path: &Path,
    samples: &[f32],
    sample_rate: u32,
) -> Result<(), coda_musicgen::Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| coda_musicgen::Error::Io { path, source }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    // A unique temp name: a re-run may overlap an orphaned run of the same job for a moment.
    let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), ulid::Ulid::new()));
    coda_musicgen::write_wav(&tmp, samples, sample_rate)?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}
