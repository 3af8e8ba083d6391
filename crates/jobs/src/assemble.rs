//! Turns live state, queue position and measured speed into the views clients see.

use crate::eta::{self, Ahead, Speed};
use crate::id::{JobId, JobStatus};
use crate::ledger::LedgerRow;
use crate::queue::{Backlog, LiveJob, Place};
use crate::range::Range;
use crate::time::rfc3339;
use crate::view::{Accounting, Eta, JobView, Progress};

/// What the view needs besides the job itself.
#[derive(Debug, Clone)]
pub(crate) struct Context<'a> {
    pub now_ms: i64,
    pub speed: Speed,
    pub concurrency: u64,
    pub device_watts: f64,
    pub public_url: Option<&'a str>,
}

/// The ETA shown, as absolute epoch-ms ranges (start, finish) to be stored for steadiness.
pub(crate) type Absolute = ((f64, f64), (f64, f64));

pub(crate) fn status_of(live: &LiveJob, backlog: &Backlog) -> (JobStatus, Option<String>) {
    if live.status.is_final() {
        return (live.status, live.error.clone());
    }
    match backlog.place {
        Place::Running => (JobStatus::Running, None),
        Place::Claimed | Place::Active | Place::Scheduled => (JobStatus::Queued, None),
        // The queue gave up on it before a worker could record why: say how often it ran.
        Place::Dead => (
            JobStatus::Failed,
            Some(format!(
                "gave up after {} attempts: the queue abandoned the job",
                live.attempts
            )),
        ),
        Place::Nowhere => (live.status, None),
    }
}

pub(crate) fn from_live(
    id: JobId,
    live: &LiveJob,
    backlog: &Backlog,
    ctx: &Context<'_>,
) -> (JobView, Option<Absolute>) {
    let (status, error) = status_of(live, backlog);
    let mut view = JobView {
        id,
        status,
        position: None,
        jobs_ahead: None,
        eta: None,
        progress: None,
        stage: None,
        params: live.params.clone(),
        created_at: rfc3339(live.created_ms),
        started_at: live
            .started_ms
            .filter(|_| status != JobStatus::Queued)
            .map(rfc3339),
        finished_at: live.finished_ms.filter(|_| status.is_final()).map(rfc3339),
        audio_url: audio_url(id, status, ctx.public_url),
        error,
        attempts: live.attempts,
        accounting: None,
    };
    let mut absolute = None;
    let now = ctx.now_ms as f64;
    match status {
        JobStatus::Queued => {
            let ahead = Ahead {
                jobs: backlog.jobs_ahead,
                steps: backlog.steps_ahead,
                running_jobs: backlog.running_jobs,
                running_remaining_steps: backlog.running_remaining_steps,
                concurrency: ctx.concurrency,
            };
            let start = eta::start_seconds(&ahead, &ctx.speed);
            let finish = start + ctx.speed.job_seconds(live.steps, ahead.batch());
            absolute = Some(steady_pair(live, now, start, finish, &ctx.speed));
            view.position = Some(backlog.jobs_ahead + 1);
            view.jobs_ahead = Some(backlog.jobs_ahead);
        }
        JobStatus::Running => {
            let remaining = live.steps.saturating_sub(live.step);
            let step_ms = ctx.speed.batch_step_ms(live.together);
            let finish = (remaining as f64 * step_ms + 0.5 * ctx.speed.overhead_ms()) / 1000.0;
            absolute = Some(steady_pair(live, now, 0.0, finish, &ctx.speed));
            if live.steps > 0 {
                let step = live.step.min(live.steps);
                view.progress = Some(Progress {
                    step,
                    total: live.steps,
                    fraction: step as f64 / live.steps as f64,
                    together: live.together,
                });
            }
            view.stage = live.stage;
        }
        _ => {}
    }
    if let Some(((s_lo, s_hi), (f_lo, f_hi))) = absolute {
        let rel = |ms: f64| ((ms - now) / 1000.0).max(0.0);
        view.eta = Some(Eta {
            start_seconds: Range {
                low: rel(s_lo),
                high: rel(s_hi),
            },
            finish_seconds: Range {
                low: rel(f_lo),
                high: rel(f_hi),
            },
        });
    }
    view.accounting = Some(accounting(
        live.created_ms,
        live.started_ms.filter(|_| status != JobStatus::Queued),
        ctx.now_ms,
        live.compute_seconds,
        live.audio_seconds,
        ctx.device_watts,
    ));
    (view, absolute)
}

fn steady_pair(live: &LiveJob, now: f64, start: f64, finish: f64, speed: &Speed) -> Absolute {
    let abs = |r: Range| (now + r.low * 1000.0, now + r.high * 1000.0);
    let start_abs = abs(eta::range(start, speed));
    let finish_abs = abs(eta::range(finish, speed));
    (
        eta::steady(live.eta_start_ms, start_abs),
        eta::steady(live.eta_finish_ms, finish_abs),
    )
}

pub(crate) fn from_row(row: &LedgerRow, ctx: &Context<'_>) -> JobView {
    JobView {
        id: row.id,
        status: row.status,
        position: None,
        jobs_ahead: None,
        eta: None,
        progress: None,
        stage: None,
        params: row.params.clone(),
        created_at: rfc3339(row.created_ms),
        started_at: row.started_ms.map(rfc3339),
        finished_at: row.finished_ms.map(rfc3339),
        audio_url: audio_url(row.id, row.status, ctx.public_url),
        error: row.error.clone(),
        attempts: row.attempts,
        accounting: Some(accounting(
            row.created_ms,
            row.started_ms,
            row.finished_ms.unwrap_or(ctx.now_ms),
            row.compute_seconds,
            row.audio_seconds,
            ctx.device_watts,
        )),
    }
}

fn audio_url(id: JobId, status: JobStatus, public_url: Option<&str>) -> Option<String> {
    (status == JobStatus::Succeeded).then(|| {
        format!(
            "{}/api/v1/jobs/{id}/audio",
            public_url.unwrap_or("").trim_end_matches('/')
        )
    })
}

fn accounting(
    created_ms: i64,
    started_ms: Option<i64>,
    now_ms: i64,
    compute_seconds: Option<f64>,
    audio_seconds: Option<f64>,
    device_watts: f64,
) -> Accounting {
    let waited_until = started_ms.unwrap_or(now_ms);
    Accounting {
        queue_wait_seconds: ((waited_until - created_ms).max(0)) as f64 / 1000.0,
        compute_seconds,
        audio_seconds,
        real_time_factor: match (compute_seconds, audio_seconds) {
            (Some(c), Some(a)) if a > 0.0 => Some(c / a),
            _ => None,
        },
        energy_wh: compute_seconds
            .filter(|_| device_watts > 0.0)
            .map(|c| c * device_watts / 3600.0),
    }
}
