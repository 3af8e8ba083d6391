//! The scheduler with a counting model: who runs together, who leaves when, and what a failure
//! or a stop touches.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use coda_engine::{
    guard, Admission, Answer, Batched, Engine, EngineSettings, Failure, Finishing, StepStatus,
    Stoppable,
};

#[derive(Default)]
struct Counting {
    /// The jobs of every step, by name.
    steps: Mutex<Vec<Vec<&'static str>>>,
}

struct Job {
    name: &'static str,
    steps: usize,
    bytes: u64,
    stop: Arc<AtomicBool>,
    /// Panics in its own part of this step.
    panic_at: Option<usize>,
}

fn job(name: &'static str, steps: usize) -> Job {
    Job {
        name,
        steps,
        bytes: 1,
        stop: Arc::default(),
        panic_at: None,
    }
}

struct Seq {
    job: Job,
    done: usize,
}

impl Stoppable for Job {
    fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

impl Stoppable for Seq {
    fn should_stop(&self) -> bool {
        self.job.should_stop()
    }
}

impl Batched for Counting {
    type Request = Job;
    type Sequence = Seq;
    type Output = (&'static str, usize);
    type Error = String;

    fn working_bytes(&self, request: &Job) -> u64 {
        request.bytes
    }

    fn admit(&self, job: Job) -> Result<Seq, String> {
        if job.steps == 0 {
            return Err(format!("{}: no steps", job.name));
        }
        Ok(Seq { job, done: 0 })
    }

    fn step(&self, batch: &mut [Seq]) -> Result<Vec<StepStatus<String>>, String> {
        self.steps
            .lock()
            .unwrap()
            .push(batch.iter().map(|s| s.job.name).collect());
        // Slow enough that a submission made from the test lands before the batch ends.
        std::thread::sleep(Duration::from_millis(2));
        Ok(batch
            .iter_mut()
            .map(|s| {
                let own = guard(|| {
                    s.done += 1;
                    if s.job.panic_at == Some(s.done) {
                        panic!("{} broke at step {}", s.job.name, s.done);
                    }
                    Ok::<_, String>(())
                });
                match own {
                    Err(failure) => StepStatus::Failed(failure),
                    Ok(()) if s.done == s.job.steps => StepStatus::Finished,
                    Ok(()) => StepStatus::Running,
                }
            })
            .collect())
    }

    fn finish(&self, seq: Seq) -> Result<(&'static str, usize), String> {
        Ok((seq.job.name, seq.done))
    }
}

fn engine(max_batch: usize, memory_budget: Option<u64>) -> (Engine<Counting>, Arc<Counting>) {
    engine_finishing(max_batch, memory_budget, Finishing::default())
}

fn engine_finishing(
    max_batch: usize,
    memory_budget: Option<u64>,
    finishing: Finishing,
) -> (Engine<Counting>, Arc<Counting>) {
    let model = Arc::new(Counting::default());
    let settings = EngineSettings {
        admission: Admission {
            max_batch,
            memory_budget,
        },
        finishing,
    };
    (
        Engine::start(model.clone(), settings, "test").unwrap(),
        model,
    )
}

fn submit(engine: &Engine<Counting>, job: Job) -> mpsc::Receiver<Answer<Counting>> {
    let (tx, rx) = mpsc::channel();
    engine.submit(job, move |answer| tx.send(answer).unwrap());
    rx
}

fn answer(rx: &mpsc::Receiver<Answer<Counting>>) -> Answer<Counting> {
    rx.recv_timeout(Duration::from_secs(20)).expect("an answer")
}

fn together(model: &Counting, name: &str, mate: &str) -> usize {
    let steps = model.steps.lock().unwrap();
    steps
        .iter()
        .filter(|s| s.contains(&name) && s.contains(&mate))
        .count()
}

#[test]
fn jobs_run_together_and_a_short_one_leaves_as_soon_as_it_is_done() {
    let (engine, model) = engine(4, None);
    let long = submit(&engine, job("long", 40));
    let short = submit(&engine, job("short", 5));
    assert_eq!(answer(&short).unwrap(), ("short", 5));
    assert_eq!(answer(&long).unwrap(), ("long", 40));
    assert_eq!(
        together(&model, "long", "short"),
        5,
        "the short job ran beside the long one"
    );
    let steps = model.steps.lock().unwrap();
    assert_eq!(steps.iter().filter(|s| s.contains(&"long")).count(), 40);
    assert!(steps.iter().all(|s| s.len() <= 2));
}

#[test]
fn a_late_job_joins_the_running_batch_at_the_next_step() {
    let (engine, model) = engine(4, None);
    let first = submit(&engine, job("first", 200));
    // Wait until the first job is being stepped, then add a second.
    while model.steps.lock().unwrap().len() < 3 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let second = submit(&engine, job("second", 10));
    assert_eq!(answer(&second).unwrap(), ("second", 10));
    assert_eq!(together(&model, "first", "second"), 10);
    assert_eq!(answer(&first).unwrap(), ("first", 200));
}

#[test]
fn the_batch_never_exceeds_its_size_and_the_rest_wait_their_turn() {
    let (engine, model) = engine(2, None);
    let replies: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|n| submit(&engine, job(n, 6)))
        .collect();
    for r in &replies {
        assert!(answer(r).is_ok());
    }
    assert_eq!(together(&model, "a", "c"), 0);
    let steps = model.steps.lock().unwrap();
    assert!(steps.iter().all(|s| s.len() <= 2), "{steps:?}");
    assert_eq!(steps.iter().map(Vec::len).sum::<usize>(), 18);
}

#[test]
fn a_job_whose_memory_does_not_fit_waits_for_room() {
    let (engine, model) = engine(8, Some(10));
    let big = |name, steps| Job {
        bytes: 6,
        ..job(name, steps)
    };
    let a = submit(&engine, big("a", 8));
    let b = submit(&engine, big("b", 8));
    let small = submit(&engine, job("small", 3));
    for r in [&a, &b, &small] {
        assert!(answer(r).is_ok());
    }
    assert_eq!(
        together(&model, "a", "b"),
        0,
        "6 + 6 bytes exceed the budget of 10"
    );
    // Arrival order holds: the small job waited behind b rather than slipping past it.
    assert_eq!(together(&model, "a", "small"), 0);
}

#[test]
fn a_stopped_job_leaves_within_a_step_and_the_others_go_on() {
    let (engine, model) = engine(4, None);
    let stop = Arc::new(AtomicBool::new(false));
    let canceled = submit(
        &engine,
        Job {
            stop: stop.clone(),
            ..job("canceled", 10_000)
        },
    );
    let other = submit(&engine, job("other", 300));
    while together(&model, "canceled", "other") < 5 {
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(answer(&canceled).unwrap_err(), Failure::Stopped);
    let ran = model
        .steps
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.contains(&"canceled"))
        .count();
    assert_eq!(answer(&other).unwrap(), ("other", 300));
    assert!(ran < 300, "the stopped job kept running for {ran} steps");
}

#[test]
fn a_panic_in_one_jobs_part_fails_that_job_alone() {
    let (engine, _model) = engine(4, None);
    let broken = submit(
        &engine,
        Job {
            panic_at: Some(3),
            ..job("broken", 10)
        },
    );
    let bad_request = submit(&engine, job("empty", 0));
    let fine = submit(&engine, job("fine", 10));
    assert_eq!(
        answer(&broken).unwrap_err(),
        Failure::Panicked("broken broke at step 3".into())
    );
    assert_eq!(
        answer(&bad_request).unwrap_err(),
        Failure::Model("empty: no steps".into())
    );
    assert_eq!(answer(&fine).unwrap(), ("fine", 10));
    // The engine is still serving.
    assert!(answer(&submit(&engine, job("after", 2))).is_ok());
}

#[test]
fn step_times_are_kept_per_batch_size() {
    let (engine, _model) = engine(4, None);
    let a = submit(&engine, job("a", 20));
    let b = submit(&engine, job("b", 20));
    answer(&a).unwrap();
    answer(&b).unwrap();
    let sizes: Vec<usize> = engine
        .step_times()
        .snapshot()
        .iter()
        .map(|t| t.batch)
        .collect();
    assert!(sizes.contains(&2), "{sizes:?}");
}

#[test]
fn finishing_between_steps_answers_the_same_and_frees_the_room_at_once() {
    let (engine, model) = engine_finishing(8, Some(10), Finishing::BetweenSteps);
    let big = |name, steps| Job {
        bytes: 6,
        ..job(name, steps)
    };
    let a = submit(&engine, big("a", 4));
    let b = submit(&engine, big("b", 4));
    assert_eq!(answer(&a).unwrap(), ("a", 4));
    assert_eq!(answer(&b).unwrap(), ("b", 4));
    assert_eq!(together(&model, "a", "b"), 0);
}
