//! The job contract shared by the api, the worker and the `coda` binary.
//!
//! It owns what a job *is* (a validated [`GenerationRequest`] becomes [`JobParams`] under a
//! [`JobId`]), where it waits (an apalis-redis queue named after `redis.namespace`), what is known
//! about it while it lives (a Redis hash per job next to the queue, written by the worker and read
//! by the api) and what is remembered afterwards (the SQL [`Ledger`]).
//!
//! Threading: everything here is async on tokio and `Send + Sync`; [`Coda`] is a cheap clone
//! (an `Arc` around one Redis connection manager and one SQL pool) meant to be shared by every
//! request handler and every worker slot. Multi-key changes (admission, position, cancel, start)
//! run as Lua scripts so that concurrent api and worker processes never see a half-made change.
//! The worker side of the contract is [`WorkerLink`]; both facades share one `core` (settings,
//! queue, ledger) and neither reaches into the other.
//!
//! Configuration: this crate owns the `redis`, `database`, `storage`, `queue` and `limits`
//! sections; [`Settings`] adds what it must know of the others' (worker liveness and attempts,
//! the public URL), composed by the binary.

mod assemble;
mod core;
mod error;
pub mod eta;
mod frames;
mod id;
mod ledger;
mod outcome;
mod queue;
mod range;
mod request;
mod service;
pub mod settings;
mod stage;
pub mod telemetry;
mod time;
mod view;
mod worker_link;

pub use error::{CancelError, Error, SettingsError, SubmitError};
pub use frames::frames_for_seconds;
pub use id::{InvalidJobId, JobId, JobStatus};
pub use ledger::{Ledger, LedgerRow};
pub use outcome::{FailureReason, Finish, ModelFacts, Outcome, Start};
pub use queue::QueuedJob;
pub use range::Range;
pub use request::{GenerationRequest, JobParams, ValidationError};
pub use service::Coda;
pub use settings::{FleetSettings, Settings};
pub use stage::JobStage;
pub use view::{Accounting, Eta, JobView, Page, Progress, QueueView, Submitted};
pub use worker_link::WorkerLink;
