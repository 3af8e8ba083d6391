//! The Coda worker: an apalis-redis consumer that runs MusicGen on queued jobs.
//!
//! Threading: one apalis worker per job slot (`worker.concurrency`), each claiming one job at a
//! time (`batch_size(1)`, concurrency 1), so a process never holds more jobs than it runs. Every
//! slot hands its job to one [`coda_engine::Engine`], whose own thread owns the model and decodes
//! all admitted jobs together, one pass per step (`worker.concurrency` is the batch size; a job
//! joins when its memory fits in `worker.memory_budget`), and awaits the answer on a oneshot
//! channel. The engine's threads send each job's progress through a channel to that job's async
//! reporter, which writes it to Redis (throttled, best-effort) and polls the cancel flag into an
//! `AtomicBool` the engine checks before every step. A liveness task publishes heartbeats so the
//! api can tell whether anyone is serving the queue.
//!
//! Configuration: this crate owns the `worker` section ([`WorkerSettings`]); the contract's
//! view of it is [`WorkerSettings::fleet`], which the binary hands to the job contract.

mod bytesize;
mod error;
mod job;
mod liveness;
mod memory;
mod observer;
mod retention;
mod run;
mod settings;
mod telemetry;
mod warmup;

pub use bytesize::ByteSize;
pub use error::WorkerError;
pub use memory::{check_budget, Footprint, SHORTEST_JOB_SECONDS};
pub use run::{load_model, run, worker_name, LoadedModel};
pub use settings::WorkerSettings;
pub use warmup::{warm_up, WarmUp};
