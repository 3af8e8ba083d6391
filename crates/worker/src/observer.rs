//! The bridge between the generating thread and the async world.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coda_jobs::{JobId, JobStage, WorkerLink};
use coda_musicgen::{GenerationObserver, Stage};
use tokio::sync::mpsc;
use tracing::debug;

/// Progress is written at most this often (plus every stage change and the last step).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How often the cancel flag is read from Redis.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Runs on the blocking thread: never touches the network, only a channel and an atomic.
pub(crate) struct ChannelObserver {
    tx: mpsc::UnboundedSender<Stage>,
    stop: Arc<AtomicBool>,
}

impl GenerationObserver for ChannelObserver {
    fn on_stage(&mut self, stage: Stage) {
        // The reporter may be gone (shutdown); progress is never worth failing a job for.
        let _ = self.tx.send(stage);
    }

    fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Creates the observer and spawns its reporter. The reporter ends when the observer is
/// dropped; await the handle to flush the last progress.
pub(crate) fn observe(
    link: WorkerLink,
    id: JobId,
    stop: Arc<AtomicBool>,
) -> (ChannelObserver, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(report(link, id, rx, stop.clone()));
    (ChannelObserver { tx, stop }, reporter)
}

async fn report(
    link: WorkerLink,
    id: JobId,
    mut rx: mpsc::UnboundedReceiver<Stage>,
    stop: Arc<AtomicBool>,
) {
    let mut poll = tokio::time::interval(CANCEL_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_write: Option<Instant> = None;
    let mut pending: Option<(usize, usize, usize)> = None;
    loop {
        tokio::select! {
            stage = rx.recv() => {
                let Some(stage) = stage else {
                    // The run ended (done, stopped or failed): leave the last step on record.
                    if let Some((step, total, together)) = pending.take() {
                        write_progress(&link, id, step, total, together).await;
                    }
                    break;
                };
                match stage {
                    Stage::Composing { step, total, together } => {
                        // A change of batch mates is news for the page, whatever the throttle.
                        let mates_changed = pending.is_some_and(|(_, _, t)| t != together);
                        pending = Some((step, total, together));
                        let due = last_write.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) || step == total || mates_changed;
                        if due {
                            write_progress(&link, id, step, total, together).await;
                            last_write = Some(Instant::now());
                            pending = None;
                        }
                    }
                    Stage::EncodingPrompt => write_stage(&link, id, JobStage::EncodingPrompt).await,
                    Stage::RenderingAudio => {
                        if let Some((step, total, together)) = pending.take() {
                            write_progress(&link, id, step, total, together).await;
                        }
                        write_stage(&link, id, JobStage::RenderingAudio).await;
                    }
                }
            }
            _ = poll.tick() => {
                match link.cancel_requested(id).await {
                    Ok(true) => stop.store(true, Ordering::Relaxed),
                    Ok(false) => {}
                    Err(e) => debug!(%id, error = %e, "could not read the cancel flag"),
                }
            }
        }
    }
}

async fn write_progress(link: &WorkerLink, id: JobId, step: usize, total: usize, together: usize) {
    if let Err(e) = link
        .progress(id, step as u64, total as u64, together as u64)
        .await
    {
        debug!(%id, error = %e, "could not write progress");
    }
}

async fn write_stage(link: &WorkerLink, id: JobId, stage: JobStage) {
    if let Err(e) = link.stage(id, stage).await {
        debug!(%id, error = %e, "could not write the stage");
    }
}
