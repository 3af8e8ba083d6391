//! Job identity and lifecycle status.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

/// A job id: a ULID, so ids sort by creation time, which keeps queue order, history paging and
/// the order apalis-redis breaks ties in (same-second pushes sort by id) all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ToSchema)]
#[schema(value_type = String, example = "01JD3K9W2X8Q5R7T1V4Y6Z0ABC")]
pub struct JobId(ulid::Ulid);

/// One generator per process keeps ids made in the same millisecond increasing.
static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

impl JobId {
    pub fn new() -> Self {
        let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
        let generator = guard.get_or_insert_with(ulid::Generator::new);
        // Overflow of the random part within one millisecond is astronomically unlikely; a fresh
        // random id still sorts correctly by its timestamp.
        JobId(generator.generate().unwrap_or_else(|_| ulid::Ulid::new()))
    }

    /// Creation time in epoch milliseconds.
    pub fn timestamp_ms(&self) -> i64 {
        self.0.timestamp_ms() as i64
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The error for a string that is not a job id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a job id (expected a 26-character ULID): {0:?}")]
pub struct InvalidJobId(pub String);

impl FromStr for JobId {
    type Err = InvalidJobId;

    /// Only canonical ULIDs pass, so an id is safe to use in Redis keys and file names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 26 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(InvalidJobId(s.chars().take(64).collect()));
        }
        ulid::Ulid::from_string(s)
            .map(JobId)
            .map_err(|_| InvalidJobId(s.to_string()))
    }
}

impl Serialize for JobId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for JobId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            "canceled" => JobStatus::Canceled,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Canceled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
