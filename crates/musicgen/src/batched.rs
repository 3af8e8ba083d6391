//! MusicGen as a model [`coda_engine`] batches: a job is admitted by encoding its prompt,
//! every step decodes all admitted jobs in one pass of the decoder and samples each with its
//! own settings and generator, and a finished job is rendered on the engine's finishing thread.

use std::time::Instant;

use coda_engine::{guard, Batched, StepStatus, Stoppable};

use crate::compose::Track;
use crate::error::{Error, Result};
use crate::generation::{Generation, GenerationObserver, GenerationParams};
use crate::model::MusicGen;

/// A job for the engine: what to compose and who watches it (progress, stop requests).
pub struct Composition {
    pub params: GenerationParams,
    pub observer: Box<dyn GenerationObserver + Send>,
}

/// A job in the batch.
pub struct Composing {
    track: Track,
    observer: Box<dyn GenerationObserver + Send>,
}

impl Stoppable for Composition {
    fn should_stop(&self) -> bool {
        self.observer.should_stop()
    }
}

impl Stoppable for Composing {
    fn should_stop(&self) -> bool {
        self.observer.should_stop()
    }
}

impl Batched for MusicGen {
    type Request = Composition;
    type Sequence = Composing;
    type Output = Generation;
    type Error = Error;

    fn working_bytes(&self, request: &Composition) -> u64 {
        self.job_memory_bytes(request.params.frames)
    }

    fn admit(&self, request: Composition) -> Result<Composing> {
        let Composition {
            params,
            mut observer,
        } = request;
        params.validate().map_err(Error::InvalidRequest)?;
        let ids = self.prompt_ids(&params.prompt)?;
        let track = self.begin(&ids, &params, &mut *observer)?;
        Ok(Composing { track, observer })
    }

    fn step(&self, batch: &mut [Composing]) -> Result<Vec<StepStatus<Error>>> {
        let started = Instant::now();
        let logits = {
            let mut tracks: Vec<&mut Track> = batch.iter_mut().map(|c| &mut c.track).collect();
            self.decode(&mut tracks)?
        };
        let step_ms = started.elapsed().as_secs_f64() * 1e3;
        let together = batch.len();
        Ok(batch
            .iter_mut()
            .zip(logits)
            .map(|(job, logits)| {
                let Composing { track, observer } = job;
                match guard(|| track.advance(&logits, &mut **observer, together, step_ms)) {
                    Ok(true) => StepStatus::Finished,
                    Ok(false) => StepStatus::Running,
                    Err(failure) => StepStatus::Failed(failure),
                }
            })
            .collect())
    }

    fn finish(&self, job: Composing) -> Result<Generation> {
        let Composing {
            track,
            mut observer,
        } = job;
        self.render_track(track, &mut *observer)
    }
}
