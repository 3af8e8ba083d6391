//! Heartbeats for the api's `workers_alive`, and the periodic clean-up of finished jobs.

use std::time::Duration;

use coda_jobs::WorkerLink;
use tracing::{debug, info, warn};

/// Finished jobs' queue records are swept this often.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

pub(crate) async fn keep_alive(link: WorkerLink, slots: usize, every: Duration) {
    let mut beat = tokio::time::interval(every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = beat.tick() => {
                if let Err(e) = link.heartbeat(slots).await {
                    warn!(worker = link.name(), error = %e, "heartbeat failed");
                }
            }
            _ = sweep.tick() => match link.sweep().await {
                Ok(0) => {}
                Ok(n) => info!(removed = n, "swept expired jobs from the queue"),
                Err(e) => debug!(error = %e, "sweep failed"),
            },
        }
    }
}
