//! Heartbeats for the api's `workers_alive`, and the periodic clean-up of finished jobs and
//! their audio.

use std::time::Duration;

use coda_jobs::WorkerLink;
use tracing::{debug, info, warn};

use crate::retention::{remove_expired, sweep_every};

pub(crate) async fn keep_alive(
    link: WorkerLink,
    slots: usize,
    every: Duration,
) -> std::convert::Infallible {
    let mut beat = tokio::time::interval(every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Short retentions (tests, demos) are swept often; long ones every ten minutes.
    let retention = Duration::from_secs(link.settings().storage.retention_seconds());
    let mut sweep = tokio::time::interval(sweep_every(retention));
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = beat.tick() => {
                if let Err(e) = link.heartbeat(slots).await {
                    warn!(worker = link.name(), error = %e, "heartbeat failed");
                }
            }
            _ = sweep.tick() => {
                match link.sweep().await {
                    Ok(0) => {}
                    Ok(n) => info!(removed = n, "swept expired jobs from the queue"),
                    Err(e) => debug!(error = %e, "sweep failed"),
                }
                let settings = &link.settings().storage;
                let audio = settings.dir.join("audio");
                match tokio::task::spawn_blocking(move || remove_expired(&audio, retention)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => info!(removed = n, "deleted expired audio files"),
                    Ok(Err(e)) => warn!(error = %e, "could not delete expired audio files"),
                    Err(e) => warn!(error = %e, "audio clean-up panicked"),
                }
            }
        }
    }
}
