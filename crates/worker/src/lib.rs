//! The Coda worker: an apalis-redis consumer that runs MusicGen on queued jobs.
//!
//! Threading: one apalis worker per job slot (`worker.concurrency`), each claiming one job at a
//! time (`batch_size(1)`, concurrency 1), so a process never holds more jobs than it runs. The
//! model runs on tokio's blocking pool; the blocking thread sends progress through a channel to
//! an async reporter that writes it to Redis (throttled, best-effort) and polls the cancel flag
//! into an `AtomicBool` the model checks before every decoding step. A liveness task publishes
//! heartbeats so the api can tell whether anyone is serving the queue.
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
pub use memory::{check_budget, Footprint};
pub use run::{load_model, run, worker_name};
pub use settings::WorkerSettings;
pub use warmup::{warm_up, WarmUp};
