//! What a model implements to be batched.

use crate::failure::Failure;

/// Something whose owner may ask it to stop (a cancel, a lost job slot).
pub trait Stoppable {
    fn should_stop(&self) -> bool;
}

/// A model that advances many jobs in one pass. All methods run on the engine's threads: `admit`
/// and `step` on the stepping thread, `finish` on the finishing thread.
pub trait Batched: Send + Sync + 'static {
    /// A job as submitted: its parameters and whatever watches it.
    type Request: Stoppable + Send + 'static;
    /// A job being stepped: its caches, sampler state and position.
    type Sequence: Stoppable + Send + 'static;
    type Output: Send + 'static;
    type Error: std::fmt::Display + Send + 'static;

    /// Working memory `request` will hold from admission to its answer (caches at their full
    /// length, finishing), counted against the engine's budget.
    fn working_bytes(&self, request: &Self::Request) -> u64;

    /// Prepares a request to join the batch (e.g. encodes its prompt once).
    fn admit(&self, request: Self::Request) -> Result<Self::Sequence, Self::Error>;

    /// Advances every sequence of `batch` by one step, in one pass where the model can. Returns
    /// one status per sequence, in order. An `Err` fails the whole step's batch.
    fn step(
        &self,
        batch: &mut [Self::Sequence],
    ) -> Result<Vec<StepStatus<Self::Error>>, Self::Error>;

    /// Turns a sequence that reported [`StepStatus::Finished`] into its output.
    fn finish(&self, sequence: Self::Sequence) -> Result<Self::Output, Self::Error>;
}

/// A sequence's state after a step.
#[derive(Debug)]
pub enum StepStatus<E> {
    Running,
    Finished,
    /// This sequence alone failed (bad sampling, a panic in its own part of the step).
    Failed(Failure<E>),
}
