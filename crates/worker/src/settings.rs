//! The worker's section of the configuration: `worker`.

use coda_jobs::{FleetSettings, SettingsError};
use serde::{Deserialize, Serialize};

use crate::bytesize::ByteSize;

/// The largest `worker.concurrency`.
pub const MAX_CONCURRENCY: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Jobs composed together by one worker process: its engine's batch size.
    pub concurrency: usize,
    /// Starts of one job (crashes included) before it is failed for good.
    pub max_attempts: u32,
    /// A worker that misses two heartbeats is presumed dead and its job re-queued.
    pub heartbeat_seconds: u64,
    /// How often an idle worker looks for work.
    pub poll_interval_ms: u64,
    /// How long a stopping worker waits for running jobs.
    pub shutdown_timeout_seconds: u64,
    /// Worker name prefix; a unique suffix is always added.
    pub name: Option<String>,
    /// Power draw of the accelerator while generating, for energy accounting; 0 = not reported.
    pub device_watts: f64,
    /// Memory this worker may use (`8GiB`, `512MiB`, or bytes); `None` = unchecked. At start the
    /// model's measured footprint times `worker.concurrency` must fit.
    pub memory_budget: Option<ByteSize>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        let fleet = FleetSettings::default();
        Self {
            concurrency: fleet.concurrency,
            max_attempts: fleet.max_attempts,
            heartbeat_seconds: fleet.heartbeat_seconds,
            poll_interval_ms: 200,
            shutdown_timeout_seconds: 30,
            name: None,
            device_watts: fleet.device_watts,
            memory_budget: None,
        }
    }
}

impl WorkerSettings {
    /// What every process (the api's too) must know of the workers, from this one section.
    pub fn fleet(&self) -> FleetSettings {
        FleetSettings {
            concurrency: self.concurrency,
            max_attempts: self.max_attempts,
            heartbeat_seconds: self.heartbeat_seconds,
            device_watts: self.device_watts,
        }
    }

    /// Checks what serde cannot: ranges. The message names the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        // The batch size of the engine: beyond this, a step's products leave the few-row kernels
        // and the warm-up times more batch sizes than anyone serves.
        SettingsError::check_range("worker.concurrency", self.concurrency, 1..=MAX_CONCURRENCY)?;
        if self.max_attempts < 1 {
            return Err(SettingsError::new(
                "worker.max_attempts",
                format!("worker.max_attempts must be ≥ 1, got {}", self.max_attempts),
            ));
        }
        SettingsError::check_range("worker.heartbeat_seconds", self.heartbeat_seconds, 1..=300)?;
        SettingsError::check_range(
            "worker.poll_interval_ms",
            self.poll_interval_ms,
            10..=60_000,
        )?;
        if !self.device_watts.is_finite() || self.device_watts < 0.0 {
            return Err(SettingsError::new(
                "worker.device_watts",
                format!(
                    "worker.device_watts must be a finite number ≥ 0, got {}",
                    self.device_watts
                ),
            ));
        }
        if self.memory_budget.is_some_and(|b| b.0 == 0) {
            return Err(SettingsError::new(
                "worker.memory_budget",
                "worker.memory_budget must be more than 0 bytes when set",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_name_their_key() {
        assert!(WorkerSettings::default().validate().is_ok());
        let s = WorkerSettings {
            concurrency: 0,
            ..WorkerSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "worker.concurrency");
        let s = WorkerSettings {
            concurrency: MAX_CONCURRENCY + 1,
            ..WorkerSettings::default()
        };
        let err = s.validate().unwrap_err();
        assert_eq!(err.key, "worker.concurrency");
        assert!(err.to_string().contains("1..=64"), "{err}");
        let s = WorkerSettings {
            memory_budget: Some(ByteSize(0)),
            ..WorkerSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "worker.memory_budget");
    }

    #[test]
    fn the_fleet_facts_come_from_this_section() {
        let s = WorkerSettings {
            concurrency: 4,
            max_attempts: 2,
            heartbeat_seconds: 7,
            device_watts: 300.0,
            ..WorkerSettings::default()
        };
        let fleet = s.fleet();
        assert_eq!(
            (
                fleet.concurrency,
                fleet.max_attempts,
                fleet.heartbeat_seconds
            ),
            (4, 2, 7)
        );
        assert_eq!(fleet.device_watts, 300.0);
    }
}
