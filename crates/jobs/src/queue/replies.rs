//! The Lua scripts' answers, parsed into enums. An answer this build does not know is an error
//! that names it: reading it as the nearest variant would act on a guess.

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Admitted,
    QueueFull,
    ClientLimit,
}

impl Admission {
    /// `admit.lua` answers 0, 1 or 2.
    pub(crate) fn from_reply(code: u8) -> Result<Self, Error> {
        match code {
            0 => Ok(Admission::Admitted),
            1 => Ok(Admission::QueueFull),
            2 => Ok(Admission::ClientLimit),
            other => Err(unexpected("admit", other.to_string())),
        }
    }
}

/// Where `backlog.lua` found a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Place {
    /// Claimed by a worker and running.
    Running,
    /// Claimed by a worker that has not started it yet.
    Claimed,
    /// In the active list, waiting its turn.
    Active,
    /// Pushed, not yet promoted to the active list.
    Scheduled,
    /// Abandoned by the queue library (dead-lettered).
    Dead,
    /// In none of the queue's structures (finished, or a new job at the tail).
    #[default]
    Nowhere,
}

impl Place {
    pub(crate) fn from_reply(reply: &str) -> Result<Self, Error> {
        match reply {
            "running" => Ok(Place::Running),
            "claimed" => Ok(Place::Claimed),
            "active" => Ok(Place::Active),
            "scheduled" => Ok(Place::Scheduled),
            "dead" => Ok(Place::Dead),
            "none" => Ok(Place::Nowhere),
            other => Err(unexpected("backlog", other)),
        }
    }
}

/// Where a job is, and the work ahead of it, from one atomic look at the queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct Backlog {
    pub place: Place,
    pub jobs_ahead: u64,
    pub steps_ahead: u64,
    pub running_jobs: u64,
    pub running_remaining_steps: u64,
    pub queued_total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelOutcome {
    NotFound,
    Forbidden,
    Finished,
    Canceled,
    Requested,
}

impl CancelOutcome {
    pub(crate) fn from_reply(reply: &str) -> Result<Self, Error> {
        match reply {
            "not_found" => Ok(CancelOutcome::NotFound),
            "forbidden" => Ok(CancelOutcome::Forbidden),
            "finished" => Ok(CancelOutcome::Finished),
            "canceled" => Ok(CancelOutcome::Canceled),
            "requested" => Ok(CancelOutcome::Requested),
            other => Err(unexpected("cancel", other)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartOutcome {
    Run { attempts: u32 },
    Missing,
    Finished,
    Canceled { attempts: u32 },
    Exhausted { attempts: u32 },
}

impl StartOutcome {
    pub(crate) fn from_reply(what: &str, attempts: u32) -> Result<Self, Error> {
        match what {
            "run" => Ok(StartOutcome::Run { attempts }),
            "missing" => Ok(StartOutcome::Missing),
            "finished" => Ok(StartOutcome::Finished),
            "canceled" => Ok(StartOutcome::Canceled { attempts }),
            "exhausted" => Ok(StartOutcome::Exhausted { attempts }),
            other => Err(unexpected("start", other)),
        }
    }
}

fn unexpected(script: &'static str, reply: impl Into<String>) -> Error {
    Error::UnexpectedReply {
        script,
        reply: reply.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_the_scripts_give_is_understood() {
        assert_eq!(Admission::from_reply(2).unwrap(), Admission::ClientLimit);
        assert_eq!(Place::from_reply("none").unwrap(), Place::Nowhere);
        assert_eq!(
            CancelOutcome::from_reply("requested").unwrap(),
            CancelOutcome::Requested
        );
        assert_eq!(
            StartOutcome::from_reply("exhausted", 3).unwrap(),
            StartOutcome::Exhausted { attempts: 3 }
        );
    }

    #[test]
    fn an_unknown_answer_is_an_error_naming_the_script_and_the_answer() {
        let errors = [
            Admission::from_reply(7).unwrap_err(),
            Place::from_reply("limbo").unwrap_err(),
            CancelOutcome::from_reply("cancelled").unwrap_err(),
            StartOutcome::from_reply("go", 1).unwrap_err(),
        ];
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(messages[0].contains("admit") && messages[0].contains("\"7\""));
        assert!(messages[1].contains("backlog") && messages[1].contains("limbo"));
        assert!(messages[2].contains("cancel") && messages[2].contains("cancelled"));
        assert!(messages[3].contains("start") && messages[3].contains("go"));
    }
}
