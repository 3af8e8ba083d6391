//! The stepping and finishing threads.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use crate::admission::Admission;
use crate::failure::{guard, Failure};
use crate::inbox::Inbox;
use crate::model::{Batched, StepStatus, Stoppable};
use crate::speed::StepTimes;

/// How often jobs waiting for room are checked for a stop while nothing else happens.
const WAITING_POLL: Duration = Duration::from_millis(50);

/// What a job's submitter gets back, once.
pub type Answer<M> = Result<<M as Batched>::Output, Failure<<M as Batched>::Error>>;
type Reply<M> = Box<dyn FnOnce(Answer<M>) + Send>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSettings {
    pub admission: Admission,
    pub finishing: Finishing,
}

/// Where a finished job is turned into its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Finishing {
    /// On the finishing thread, while the others keep stepping beside it: they share the cores
    /// with it, but never stop.
    #[default]
    OwnThread,
    /// On the stepping thread, between two steps: the others wait for it, but it has the cores
    /// to itself.
    BetweenSteps,
}

/// A running engine. Dropping it lets the jobs already submitted run to their end, then the
/// threads exit.
pub struct Engine<M: Batched> {
    model: Arc<M>,
    inbox: Arc<Inbox<Waiting<M>>>,
    times: Arc<StepTimes>,
    active: Arc<AtomicUsize>,
}

struct Waiting<M: Batched> {
    request: M::Request,
    bytes: u64,
    reply: Reply<M>,
}

/// An admitted job beside its sequence.
struct Ticket<M: Batched> {
    bytes: u64,
    reply: Reply<M>,
}

impl<M: Batched> Engine<M> {
    /// Spawns the stepping and finishing threads, named after `name`.
    pub fn start(model: Arc<M>, settings: EngineSettings, name: &str) -> std::io::Result<Self> {
        let inbox = Arc::new(Inbox::new());
        let times = Arc::new(StepTimes::default());
        let active = Arc::new(AtomicUsize::new(0));
        let (finish_tx, finish_rx) = mpsc::channel::<(M::Sequence, Ticket<M>)>();
        let finishing = Arc::new(AtomicUsize::new(0));
        {
            let (model, inbox, finishing) = (model.clone(), inbox.clone(), finishing.clone());
            thread::Builder::new()
                .name(format!("{name}-finish"))
                .spawn(move || finish_loop(&*model, &inbox, &finishing, &finish_rx))?;
        }
        let stepper = Stepper {
            model: model.clone(),
            inbox: inbox.clone(),
            admission: settings.admission,
            finishing_mode: settings.finishing,
            times: times.clone(),
            active: active.clone(),
            finishing,
            finish_tx,
        };
        thread::Builder::new()
            .name(format!("{name}-step"))
            .spawn(move || stepper.run())?;
        Ok(Self {
            model,
            inbox,
            times,
            active,
        })
    }

    /// Queues `request` for the next step boundary with room for it; `reply` gets its output or
    /// failure, on one of the engine's threads.
    pub fn submit(&self, request: M::Request, reply: impl FnOnce(Answer<M>) + Send + 'static) {
        let bytes = self.model.working_bytes(&request);
        let reply: Reply<M> = Box::new(reply);
        let mut state = self.inbox.lock();
        if state.closed {
            drop(state);
            reply(Err(Failure::ShutDown));
            return;
        }
        state.jobs.push_back(Waiting {
            request,
            bytes,
            reply,
        });
        drop(state);
        self.inbox.change(|_| {});
    }

    /// Step times measured so far, by batch size.
    pub fn step_times(&self) -> &Arc<StepTimes> {
        &self.times
    }

    /// Jobs in the batch now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    pub fn model(&self) -> &Arc<M> {
        &self.model
    }
}

impl<M: Batched> Drop for Engine<M> {
    fn drop(&mut self) {
        self.inbox.change(|state| state.closed = true);
    }
}

struct Stepper<M: Batched> {
    model: Arc<M>,
    inbox: Arc<Inbox<Waiting<M>>>,
    admission: Admission,
    finishing_mode: Finishing,
    times: Arc<StepTimes>,
    active: Arc<AtomicUsize>,
    finishing: Arc<AtomicUsize>,
    finish_tx: mpsc::Sender<(M::Sequence, Ticket<M>)>,
}

impl<M: Batched> Stepper<M> {
    fn run(self) {
        let mut waiting: VecDeque<Waiting<M>> = VecDeque::new();
        let mut batch: Vec<M::Sequence> = Vec::new();
        let mut tickets: Vec<Ticket<M>> = Vec::new();
        // Working memory of the admitted jobs, until their answer is given.
        let mut reserved = 0u64;
        loop {
            if !self.gather(&mut waiting, &mut reserved, batch.is_empty()) {
                return;
            }
            drop_stopped_waiting(&mut waiting);
            self.admit(&mut waiting, &mut batch, &mut tickets, &mut reserved);
            for i in (0..batch.len()).rev() {
                if batch[i].should_stop() {
                    batch.remove(i);
                    let ticket = tickets.remove(i);
                    reserved -= ticket.bytes;
                    (ticket.reply)(Err(Failure::Stopped));
                }
            }
            self.active.store(batch.len(), Ordering::Relaxed);
            if batch.is_empty() {
                continue;
            }
            self.step(&mut batch, &mut tickets, &mut reserved);
            self.active.store(batch.len(), Ordering::Relaxed);
        }
    }

    /// Takes in new jobs and released memory. With an empty batch, sleeps until something can
    /// be admitted. Returns false when the engine is closed and has nothing left to do.
    fn gather(&self, waiting: &mut VecDeque<Waiting<M>>, reserved: &mut u64, idle: bool) -> bool {
        let mut state = self.inbox.lock();
        loop {
            waiting.extend(state.jobs.drain(..));
            *reserved -= std::mem::take(&mut state.released);
            if !idle {
                return true;
            }
            match waiting.front() {
                Some(head) if self.admission.admits(0, *reserved, head.bytes) => return true,
                // Room is held by jobs still finishing: wait for it, looking for stops meanwhile.
                Some(_) => {
                    state = self.inbox.wait(state, Some(WAITING_POLL));
                    if !state.jobs.is_empty() || state.released > 0 {
                        continue;
                    }
                    return true;
                }
                None if state.closed => return false,
                None => state = self.inbox.wait(state, None),
            }
        }
    }

    fn admit(
        &self,
        waiting: &mut VecDeque<Waiting<M>>,
        batch: &mut Vec<M::Sequence>,
        tickets: &mut Vec<Ticket<M>>,
        reserved: &mut u64,
    ) {
        while let Some(head) = waiting.front() {
            if !self.admission.admits(batch.len(), *reserved, head.bytes) {
                break;
            }
            let Waiting {
                request,
                bytes,
                reply,
            } = waiting.pop_front().expect("a head was just seen");
            match guard(|| self.model.admit(request)) {
                Ok(sequence) => {
                    *reserved += bytes;
                    batch.push(sequence);
                    tickets.push(Ticket { bytes, reply });
                }
                Err(failure) => reply(Err(failure)),
            }
        }
    }

    fn step(&self, batch: &mut Vec<M::Sequence>, tickets: &mut Vec<Ticket<M>>, reserved: &mut u64) {
        let size = batch.len();
        let finishing = self.finishing.load(Ordering::Relaxed) > 0;
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| self.model.step(batch)));
        self.times
            .record(size, started.elapsed().as_secs_f64() * 1e3, finishing);
        let statuses = match result {
            Ok(Ok(statuses)) if statuses.len() == size => statuses,
            Ok(Ok(statuses)) => {
                let message = format!("{} statuses for {size} jobs", statuses.len());
                return self.fail_all(batch, tickets, reserved, &message);
            }
            Ok(Err(e)) => return self.fail_all(batch, tickets, reserved, &e.to_string()),
            Err(payload) => {
                let Failure::<M::Error>::Panicked(message) = Failure::panicked(payload.as_ref())
                else {
                    unreachable!("a panic is always Panicked")
                };
                return self.fail_all(batch, tickets, reserved, &message);
            }
        };
        for (i, status) in statuses.into_iter().enumerate().rev() {
            match status {
                StepStatus::Running => {}
                StepStatus::Finished => {
                    let sequence = batch.remove(i);
                    let ticket = tickets.remove(i);
                    if self.finishing_mode == Finishing::BetweenSteps {
                        let answer = guard(|| self.model.finish(sequence));
                        *reserved -= ticket.bytes;
                        (ticket.reply)(answer);
                        continue;
                    }
                    self.finishing.fetch_add(1, Ordering::Relaxed);
                    if let Err(mpsc::SendError((_, ticket))) =
                        self.finish_tx.send((sequence, ticket))
                    {
                        self.finishing.fetch_sub(1, Ordering::Relaxed);
                        *reserved -= ticket.bytes;
                        (ticket.reply)(Err(Failure::ShutDown));
                    }
                }
                StepStatus::Failed(failure) => {
                    batch.remove(i);
                    let ticket = tickets.remove(i);
                    *reserved -= ticket.bytes;
                    debug!("a job failed within its batch: its batch mates go on");
                    (ticket.reply)(Err(failure));
                }
            }
        }
    }

    fn fail_all(
        &self,
        batch: &mut Vec<M::Sequence>,
        tickets: &mut Vec<Ticket<M>>,
        reserved: &mut u64,
        message: &str,
    ) {
        warn!(jobs = batch.len(), error = message, "a batched step failed");
        batch.clear();
        for ticket in tickets.drain(..) {
            *reserved -= ticket.bytes;
            (ticket.reply)(Err(Failure::Step(message.to_string())));
        }
    }
}

fn drop_stopped_waiting<M: Batched>(waiting: &mut VecDeque<Waiting<M>>) {
    let mut kept = VecDeque::with_capacity(waiting.len());
    for job in waiting.drain(..) {
        if job.request.should_stop() {
            (job.reply)(Err(Failure::Stopped));
        } else {
            kept.push_back(job);
        }
    }
    *waiting = kept;
}

fn finish_loop<M: Batched>(
    model: &M,
    inbox: &Inbox<Waiting<M>>,
    finishing: &AtomicUsize,
    jobs: &mpsc::Receiver<(M::Sequence, Ticket<M>)>,
) {
    while let Ok((sequence, ticket)) = jobs.recv() {
        let answer = guard(|| model.finish(sequence));
        finishing.fetch_sub(1, Ordering::Relaxed);
        (ticket.reply)(answer);
        inbox.change(|state| state.released += ticket.bytes);
    }
}
