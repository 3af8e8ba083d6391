//! The per-job live hash (`<ns>:job:<id>`): what the worker reports and the api reads.

use std::collections::HashMap;

use crate::error::Error;
use crate::id::JobStatus;
use crate::request::JobParams;
use crate::stage::JobStage;

/// Field names of the live hash.
pub(crate) mod field {
    pub const STATUS: &str = "status";
    pub const PARAMS: &str = "params";
    pub const CLIENT_KEY: &str = "client_key";
    pub const TOKEN: &str = "token_sha256";
    pub const CREATED: &str = "created_ms";
    pub const STARTED: &str = "started_ms";
    pub const FINISHED: &str = "finished_ms";
    pub const STAGE: &str = "stage";
    pub const STEP: &str = "step";
    pub const STEPS: &str = "steps";
    pub const TOGETHER: &str = "together";
    pub const ATTEMPTS: &str = "attempts";
    pub const ERROR: &str = "error";
    pub const AUDIO_SECONDS: &str = "audio_seconds";
    pub const COMPUTE_SECONDS: &str = "compute_seconds";
    pub const MS_PER_STEP: &str = "ms_per_step";
    pub const ETA_START: &str = "eta_start_ms";
    pub const ETA_FINISH: &str = "eta_finish_ms";
}

#[derive(Debug, Clone)]
pub(crate) struct LiveJob {
    pub status: JobStatus,
    pub params: JobParams,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub stage: Option<JobStage>,
    pub step: u64,
    pub steps: u64,
    /// Jobs decoded in the same pass as this one at its last step, itself included.
    pub together: u64,
    pub attempts: u32,
    pub error: Option<String>,
    pub audio_seconds: Option<f64>,
    pub compute_seconds: Option<f64>,
    /// Last absolute start/finish estimate shown (epoch ms, low/high), to keep ETAs steady.
    pub eta_start_ms: Option<(f64, f64)>,
    pub eta_finish_ms: Option<(f64, f64)>,
}

fn pair(s: Option<&String>) -> Option<(f64, f64)> {
    let (a, b) = s?.split_once(',')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A stage this build does not know (a newer worker in a rolling upgrade) is shown as none,
/// never as a stage it is not.
fn stage(name: &str) -> Option<JobStage> {
    let stage = JobStage::parse(name);
    if stage.is_none() {
        tracing::warn!(stage = name, "live job with an unknown stage");
    }
    stage
}

impl LiveJob {
    pub(crate) fn from_hash(h: &HashMap<String, String>) -> Result<Self, Error> {
        let get = |k: &str| h.get(k).filter(|v| !v.is_empty());
        let num = |k: &str| get(k).and_then(|v| v.parse::<f64>().ok());
        let int = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
        let status = get(field::STATUS)
            .and_then(|s| JobStatus::parse(s))
            .ok_or_else(|| Error::Corrupt("live job without a status".into()))?;
        let params = get(field::PARAMS)
            .ok_or_else(|| Error::Corrupt("live job without params".into()))
            .and_then(|p| serde_json::from_str(p).map_err(|e| Error::Corrupt(e.to_string())))?;
        Ok(LiveJob {
            status,
            params,
            created_ms: int(field::CREATED).unwrap_or(0),
            started_ms: int(field::STARTED),
            finished_ms: int(field::FINISHED),
            stage: get(field::STAGE).and_then(|s| stage(s)),
            step: int(field::STEP).unwrap_or(0).max(0) as u64,
            steps: int(field::STEPS).unwrap_or(0).max(0) as u64,
            together: int(field::TOGETHER).unwrap_or(1).max(1) as u64,
            attempts: int(field::ATTEMPTS).unwrap_or(0).max(0) as u32,
            error: get(field::ERROR).cloned(),
            audio_seconds: num(field::AUDIO_SECONDS),
            compute_seconds: num(field::COMPUTE_SECONDS),
            eta_start_ms: pair(h.get(field::ETA_START)),
            eta_finish_ms: pair(h.get(field::ETA_FINISH)),
        })
    }
}
