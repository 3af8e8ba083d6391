//! Measuring the engine as the worker runs it: jobs of staggered lengths submitted at once,
//! decoded together, each rendered on the finishing thread while the others go on. Reports the
//! wall time until all are done and the step time at each batch size, alone and with a render
//! running beside it (what rendering costs the jobs still decoding). Used by
//! `coda bench --engine`.

use std::sync::{mpsc, Arc};
use std::time::Instant;

use coda_engine::{Admission, Engine, EngineSettings, Finishing, StepTiming};
use serde::Serialize;

use crate::batched::Composition;
use crate::error::{Error, Result};
use crate::generation::{GenerationParams, NoopObserver};
use crate::model::MusicGen;

/// What one engine run measured; times in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineReport {
    pub jobs: usize,
    /// The longest job's frames; the others are shorter by equal steps.
    pub frames: Vec<usize>,
    /// From submitting all jobs to the last one's audio.
    pub wall_ms: f64,
    /// Audio made, over all jobs.
    pub audio_seconds: f64,
    /// Each job's prompt encoding and rendering (they run one job at a time).
    pub overhead_ms: Vec<f64>,
    pub steps: Vec<StepTimingReport>,
}

/// [`StepTiming`] as printed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepTimingReport {
    pub batch: usize,
    /// Mean over the steps at this size with no render beside them.
    pub ms_per_step: Option<f64>,
    pub ms_per_job_step: Option<f64>,
    pub steps: u64,
    /// Mean over the steps at this size taken while a finished job was rendered beside them.
    pub ms_per_step_while_rendering: Option<f64>,
    pub steps_while_rendering: u64,
}

impl From<StepTiming> for StepTimingReport {
    fn from(t: StepTiming) -> Self {
        let mean = t.mean_ms_per_step();
        Self {
            batch: t.batch,
            ms_per_step: mean,
            ms_per_job_step: mean.map(|m| m / t.batch.max(1) as f64),
            steps: t.steps,
            ms_per_step_while_rendering: t.mean_ms_per_step_while_finishing(),
            steps_while_rendering: t.steps_while_finishing,
        }
    }
}

/// Runs `jobs` jobs (the longest `frames` long, the others `frames × (jobs − i) / jobs`, so
/// they finish, and render, at different times) through an engine of batch size `jobs` that
/// renders as `finishing` says.
pub fn run_engine_bench(
    model: &Arc<MusicGen>,
    jobs: usize,
    frames: usize,
    finishing: Finishing,
) -> Result<EngineReport> {
    if jobs == 0 || frames == 0 {
        return Err(Error::InvalidRequest(
            "jobs and frames must be at least 1".into(),
        ));
    }
    let settings = EngineSettings {
        admission: Admission {
            max_batch: jobs,
            memory_budget: None,
        },
        finishing,
    };
    let engine = Engine::start(model.clone(), settings, "bench")
        .map_err(|e| Error::InvalidRequest(format!("could not start the engine: {e}")))?;
    let lengths: Vec<usize> = (0..jobs)
        .map(|i| (frames * (jobs - i) / jobs).max(1))
        .collect();
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    for (i, &frames) in lengths.iter().enumerate() {
        let tx = tx.clone();
        let params = GenerationParams {
            prompt: "a bench of several tracks at once".into(),
            frames,
            seed: i as u64,
            ..GenerationParams::default()
        };
        let request = Composition {
            params,
            observer: Box::new(NoopObserver),
        };
        engine.submit(request, move |answer| {
            let _ = tx.send(answer);
        });
    }
    drop(tx);
    let mut audio_seconds = 0.0;
    let mut overhead_ms = Vec::with_capacity(jobs);
    for answer in rx {
        let generation = answer.map_err(|f| Error::InvalidRequest(format!("a bench job: {f}")))?;
        audio_seconds += generation.samples.len() as f64 / f64::from(generation.sample_rate);
        overhead_ms.push(generation.timings.text_ms + generation.timings.audio_ms);
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(EngineReport {
        jobs,
        frames: lengths,
        wall_ms,
        audio_seconds,
        overhead_ms,
        steps: engine
            .step_times()
            .snapshot()
            .into_iter()
            .map(StepTimingReport::from)
            .collect(),
    })
}
