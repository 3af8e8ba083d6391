//! Continuous batching: one thread owns a model and every job it is running, and advances them
//! all with one forward pass per step. Jobs join at the next step boundary and leave the moment
//! they finish, so nobody waits for the slowest of a batch (the scheme vLLM and TGI use for
//! text).
//!
//! The scheduler knows nothing of music: a model implements [`Batched`] (admit a request, step a
//! batch, finish a sequence) and the engine decides who runs when. An image model would batch
//! its denoising steps through the same trait.
//!
//! # Threads
//! - [`Engine::start`] spawns the *stepping* thread. It admits waiting jobs at step boundaries
//!   (in arrival order, while the batch has room and their working memory fits the budget),
//!   steps the batch, retires finished sequences and answers stopped or failed ones.
//! - Finished sequences go to a *finishing* thread (MusicGen renders audio there), so a long
//!   render delays the others' steps only by the cores it shares, not by its whole length; or,
//!   with [`Finishing::BetweenSteps`], are finished on the stepping thread between two steps.
//! - [`Engine::submit`] may be called from any thread; the answer comes through the callback
//!   given with the job, on one of the engine's threads. Nothing here blocks an async runtime.
//!
//! A panic in one job's admission, sampling or finishing fails that job alone; a panic in the
//! shared forward pass fails the jobs of that step and the engine goes on with the next ones.

mod admission;
mod engine;
mod failure;
mod inbox;
mod model;
mod speed;

pub use admission::Admission;
pub use engine::{Answer, Engine, EngineSettings, Finishing};
pub use failure::{guard, Failure};
pub use model::{Batched, StepStatus, Stoppable};
pub use speed::{StepTimes, StepTiming};
