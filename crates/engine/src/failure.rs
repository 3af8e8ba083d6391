//! Why a job came back without an output.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Debug, PartialEq)]
pub enum Failure<E> {
    /// The model returned an error for this job.
    Model(E),
    /// The model panicked in this job's part of the work; the message is the panic's.
    Panicked(String),
    /// The pass shared by the whole batch failed (an error or a panic outside any one job's
    /// part): every job of that step fails with it.
    Step(String),
    /// The job's owner asked it to stop.
    Stopped,
    /// The engine went away before the job was done.
    ShutDown,
}

impl<E: std::fmt::Display> std::fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Model(e) => e.fmt(f),
            Failure::Panicked(message) => write!(f, "the model crashed: {message}"),
            Failure::Step(message) => write!(f, "the batch's step failed: {message}"),
            Failure::Stopped => f.write_str("stopped"),
            Failure::ShutDown => f.write_str("the engine shut down"),
        }
    }
}

impl<E> Failure<E> {
    pub(crate) fn panicked(payload: &(dyn Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Failure::Panicked(message)
    }
}

/// Runs `work`, turning its error or panic into this job's [`Failure`]: for the parts of a step
/// that belong to one job, so that its crash does not take the batch with it.
pub fn guard<T, E>(work: impl FnOnce() -> Result<T, E>) -> Result<T, Failure<E>> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Failure::Model(e)),
        Err(payload) => Err(Failure::panicked(payload.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_jobs_failure_with_its_message() {
        let got: Result<(), Failure<String>> = guard(|| panic!("sampling went wrong at {}", 3));
        assert_eq!(
            got,
            Err(Failure::Panicked("sampling went wrong at 3".into()))
        );
        let got: Result<(), Failure<&str>> = guard(|| Err("bad prompt"));
        assert_eq!(got, Err(Failure::Model("bad prompt")));
    }
}
