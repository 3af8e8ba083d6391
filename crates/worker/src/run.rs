//! Starting and stopping a worker process.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendExt, Monitor, WorkerBuilder, WorkerBuilderExt};
use coda_engine::{Admission, Engine, EngineSettings, Finishing};
use coda_jobs::{Coda, ModelFacts};
use coda_musicgen::{LoadOptions, ModelSettings, MusicGen};
use tracing::{info, warn};

use crate::error::WorkerError;
use crate::job::{handle, Shared};
use crate::liveness::keep_alive;
use crate::memory::{self, check_budget, Footprint};
use crate::settings::WorkerSettings;
use crate::warmup::warm_up;

/// A worker that misses this many heartbeats is presumed dead and its job re-queued.
const MISSED_HEARTBEATS: usize = 2;

/// A loaded model and what it weighs.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    pub model: Arc<MusicGen>,
    pub footprint: Footprint,
}

/// Resolves `model.id` (generating the tiny model on first use; with `model.quantization`
/// set, quantizing it once into `<storage.dir>/models/<name>-<quantization>.gguf`) and loads
/// it on a blocking thread with `model.threads` CPU threads. Refuses a `worker.concurrency`
/// that can never run in `worker.memory_budget`.
pub async fn load_model(
    coda: &Coda,
    model: &ModelSettings,
    worker: &WorkerSettings,
) -> Result<LoadedModel, WorkerError> {
    let id = model.id.clone();
    let dir = coda.settings().storage.dir.clone();
    let threads = model.threads;
    let quantization = model.quantization;
    let max_seconds = coda.settings().limits.max_duration_seconds;
    let (loaded, model_bytes) = tokio::task::spawn_blocking(move || {
        let path = coda_musicgen::resolve_quantized_model(&id, &dir, quantization)?;
        let before = memory::resident_bytes();
        let model = MusicGen::load(
            &path,
            &LoadOptions {
                threads,
                quantization,
                ..LoadOptions::default()
            },
        )?;
        let grown = before
            .zip(memory::resident_bytes())
            .map(|(b, a)| a.saturating_sub(b));
        Ok::<_, coda_musicgen::Error>((model, grown))
    })
    .await??;
    let footprint = Footprint {
        model_bytes: model_bytes.unwrap_or(0),
        per_job_bytes: memory::per_job_bytes(&loaded, max_seconds),
        shortest_job_bytes: memory::per_job_bytes(&loaded, memory::SHORTEST_JOB_SECONDS),
    };
    info!(
        model = %model.id,
        model_bytes = footprint.model_bytes,
        per_job_bytes = footprint.per_job_bytes,
        shortest_job_bytes = footprint.shortest_job_bytes,
        slots = worker.concurrency,
        "model loaded"
    );
    if worker.memory_budget.is_some() && model_bytes.is_none() {
        warn!("worker.memory_budget is set but this OS does not report resident memory; only the per-job part is checked");
    }
    check_budget(worker, max_seconds, &footprint)?;
    Ok(LoadedModel {
        model: Arc::new(loaded),
        footprint,
    })
}

/// A process-unique worker name: apalis refuses a name that is still within its heartbeat
/// window, even after a clean stop, so every start gets a fresh ULID suffix.
pub fn worker_name(settings: &WorkerSettings) -> String {
    let base = settings.name.as_deref().unwrap_or("coda-worker");
    format!("{base}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Runs `worker.concurrency` job slots feeding one batching engine until `shutdown` resolves,
/// then waits up to `worker.shutdown_timeout_seconds` for running jobs. Warms the model up
/// first (timing a step at each batch size up to the concurrency), publishes its frame rate
/// and codebooks, and heartbeats throughout.
pub async fn run(
    coda: Coda,
    loaded: LoadedModel,
    settings: &WorkerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    if coda.settings().fleet != settings.fleet() {
        // Attempts are counted with the contract's copy; liveness and slots with this one.
        warn!("the worker section differs from the one the queue handle was made with");
    }
    let name = worker_name(settings);
    let link = coda.worker_link(&name);
    let slots = settings.concurrency;
    let LoadedModel { model, footprint } = loaded;

    link.publish_model(ModelFacts {
        frame_rate: model.frame_rate(),
        codebooks: model.num_codebooks() as u64,
    })
    .await?;
    let warm = warm_up(model.clone(), slots).await?;
    info!(worker = %name, ms_per_step = warm.ms_per_step, overhead_ms = warm.overhead_ms, by_batch = ?warm.by_batch, "model warmed up");
    if warm.ms_per_step > 0.0 {
        link.record_speed(warm.ms_per_step, warm.overhead_ms)
            .await?;
    }
    link.record_batch_speeds(&warm.by_batch).await?;
    let engine = Engine::start(
        model,
        EngineSettings {
            admission: Admission {
                max_batch: slots,
                memory_budget: settings
                    .memory_budget
                    .map(|b| b.0.saturating_sub(footprint.model_bytes)),
            },
            finishing: Finishing::default(),
        },
        &name,
    )
    .map_err(WorkerError::Engine)?;

    let heartbeat = Duration::from_secs(settings.heartbeat_seconds);
    link.heartbeat(slots).await?;

    let shared = Arc::new(Shared {
        link: link.clone(),
        engine,
    });
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let mut monitor = Monitor::new()
        .shutdown_timeout(Duration::from_secs(settings.shutdown_timeout_seconds))
        // A backend error (Redis restarting, a timeout) must not silently end a slot.
        .should_restart(|ctx, error| {
            warn!(worker = ctx.name(), %error, "job slot stopped; restarting it");
            true
        });
    for slot in 0..slots {
        let shared = shared.clone();
        let link = link.clone();
        let slot_name = format!("{name}-{slot}");
        monitor = monitor.register(move |restarts| {
            let config = link
                .apalis_config()
                // One claimed job per slot: a bigger batch would hold queued jobs hostage.
                .batch_size(1)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(MISSED_HEARTBEATS);
            // Without a poll interval an idle worker looks for work only on its heartbeat.
            let backend = link.storage(config).poll_with_interval(poll);
            WorkerBuilder::new(format!("{slot_name}-{restarts}"))
                .backend(backend)
                .concurrency(1)
                .data(shared.clone())
                .build(handle)
        });
    }
    info!(worker = %name, slots, "worker started");
    let monitor = monitor.run_with_signal(async move {
        shutdown.await;
        Ok(())
    });
    // Heartbeats live exactly as long as the job slots: dropping this future (a crash, an
    // aborted task) stops both.
    let result = tokio::select! {
        result = monitor => result,
        never = keep_alive(link.clone(), slots, heartbeat) => match never {},
    };
    if let Err(e) = link.leave().await {
        warn!(worker = %name, error = %e, "could not deregister");
    }
    info!(worker = %name, "worker stopped");
    result.map_err(|e| WorkerError::Monitor(e.to_string()))
}
