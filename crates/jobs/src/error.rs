//! Error types of the job contract. They say what went wrong and keep their source; the codes
//! clients branch on and the HTTP statuses belong to the api, which maps each variant once.

use crate::id::JobStatus;
use crate::range::Range;

/// Infrastructure failures: Redis, the queue library, the ledger, the file system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("queue: {0}")]
    Queue(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("ledger: {0}")]
    Database(#[from] sqlx::Error),
    #[error("ledger migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored job data is unreadable: {0}")]
    Corrupt(String),
    /// A Lua script answered something this build does not know: Redis runs other scripts
    /// than the ones compiled in, or a script has a bug. Never read as a guess.
    #[error("the {script} script answered {reply:?}, which this version does not know")]
    UnexpectedReply { script: &'static str, reply: String },
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("invalid cursor: {0}")]
    BadCursor(String),
}

impl Error {
    /// True when a dependency could not be reached or answered in time: worth a retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Redis(_) | Error::Queue(_) | Error::Database(_))
    }
}

/// A configuration value out of range; `key` is the dotted name, e.g. `worker.concurrency`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SettingsError {
    pub key: &'static str,
    pub message: String,
}

impl SettingsError {
    pub fn new(key: &'static str, message: impl Into<String>) -> Self {
        SettingsError {
            key,
            message: message.into(),
        }
    }

    /// `key` must hold a value in `range` (a NaN is in none); the message names both.
    pub fn check_range<T: PartialOrd + std::fmt::Display>(
        key: &'static str,
        value: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<(), SettingsError> {
        if range.contains(&value) {
            return Ok(());
        }
        Err(SettingsError::new(
            key,
            format!(
                "{key} must be in {}..={}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Too many unfinished jobs in total.
    #[error("the queue is full; try again in about {retry_after_seconds} s")]
    QueueFull {
        retry_after_seconds: u64,
        expected_wait: Range,
    },
    /// This client already has `limit` unfinished jobs.
    #[error(
        "you already have {limit} unfinished jobs; try again in about {retry_after_seconds} s"
    )]
    ClientLimit {
        limit: usize,
        retry_after_seconds: u64,
    },
    /// Redis or the ledger failed; the job was not accepted.
    #[error(transparent)]
    Backend(#[from] Error),
}

impl SubmitError {
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            SubmitError::QueueFull {
                retry_after_seconds,
                ..
            }
            | SubmitError::ClientLimit {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            SubmitError::Backend(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such job")]
    NotFound,
    #[error("the cancel token does not match this job")]
    Forbidden,
    #[error("the job already finished ({status})")]
    AlreadyFinished { status: JobStatus },
    /// Redis or the ledger failed; nothing was changed.
    #[error(transparent)]
    Backend(#[from] Error),
}
