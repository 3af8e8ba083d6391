//! Error types. Each has a stable snake_case `code()` that the api maps to an HTTP status.

use crate::id::JobStatus;
use crate::view::Range;

/// Infrastructure failures: Redis, the ledger, the file system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("queue: {0}")]
    Queue(String),
    #[error("ledger: {0}")]
    Database(#[from] sqlx::Error),
    #[error("ledger migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored job data is unreadable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("invalid cursor: {0}")]
    BadCursor(String),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::Redis(_) | Error::Queue(_) | Error::Database(_) => "unavailable",
            Error::Settings(_) => "invalid_settings",
            Error::BadCursor(_) => "invalid_cursor",
            Error::Migrate(_) | Error::Io(_) | Error::Corrupt(_) => "internal",
        }
    }
}

/// A configuration value out of range; `key` is the dotted name, e.g. `worker.concurrency`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SettingsError {
    pub key: &'static str,
    pub message: String,
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
    /// Redis or the ledger cannot be reached.
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
}

impl SubmitError {
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::QueueFull { .. } => "queue_full",
            SubmitError::ClientLimit { .. } => "client_limit",
            SubmitError::Unavailable(_) => "unavailable",
        }
    }

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
            SubmitError::Unavailable(_) => None,
        }
    }
}

impl From<Error> for SubmitError {
    fn from(e: Error) -> Self {
        SubmitError::Unavailable(e.to_string())
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
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
}

impl CancelError {
    pub fn code(&self) -> &'static str {
        match self {
            CancelError::NotFound => "not_found",
            CancelError::Forbidden => "forbidden",
            CancelError::AlreadyFinished { .. } => "already_finished",
            CancelError::Unavailable(_) => "unavailable",
        }
    }
}

impl From<Error> for CancelError {
    fn from(e: Error) -> Self {
        CancelError::Unavailable(e.to_string())
    }
}
