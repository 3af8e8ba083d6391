//! How a claimed job goes: whether it runs, how it ended, what it cost.

/// What to do with a claimed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Run it; this is attempt number `attempts` (1-based).
    Run { attempts: u32 },
    /// Nothing to do: it already finished (a redelivery) or its record is gone.
    Skip,
    /// It was cancelled before it started; recorded as canceled.
    Canceled,
    /// It was started `max_attempts` times already (each start ended with the worker gone);
    /// recorded as failed.
    Exhausted { attempts: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded {
        audio_seconds: f64,
    },
    /// `error` is what the job's page and the ledger say; `reason` is its class, for metrics.
    Failed {
        reason: FailureReason,
        error: String,
    },
    Canceled,
}

/// Why a job failed, as a class: the `reason` label of the finished-jobs metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The model returned an error (a bad prompt for its tokenizer, an I/O error writing the WAV).
    ModelError,
    /// The model's thread panicked.
    ModelCrashed,
    /// Every start ended with the worker gone.
    TooManyAttempts,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::ModelError => "model_error",
            FailureReason::ModelCrashed => "model_crashed",
            FailureReason::TooManyAttempts => "too_many_attempts",
        }
    }
}

/// How a run ended and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    pub outcome: Outcome,
    /// What the run cost in machine time: its prompt and rendering, and its share of each
    /// decoding step it took with other jobs (the step's time over the jobs in it). For a
    /// run that did not finish, its wall time.
    pub compute_seconds: f64,
    /// Decoding steps done and the wall time they took (for ms/step).
    pub decode_steps: u64,
    pub decode_ms: f64,
    /// Prompt encoding + audio rendering time.
    pub overhead_ms: f64,
    /// How many jobs its steps were decoded with on average, itself included (1 alone).
    pub together: f64,
}

impl Finish {
    pub fn ms_per_step(&self) -> Option<f64> {
        (self.decode_steps > 0 && self.decode_ms > 0.0)
            .then(|| self.decode_ms / self.decode_steps as f64)
    }
}

/// Facts about the loaded model that estimates depend on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFacts {
    pub frame_rate: f64,
    pub codebooks: u64,
}

impl Finish {
    /// An outcome reached without running the model.
    pub fn nothing(outcome: Outcome) -> Self {
        Finish {
            outcome,
            compute_seconds: 0.0,
            decode_steps: 0,
            decode_ms: 0.0,
            overhead_ms: 0.0,
            together: 1.0,
        }
    }
}
