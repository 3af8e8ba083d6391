//! Who joins the batch at a step boundary.

/// The batch's room: how many jobs and how much working memory. Jobs are admitted in arrival
/// order; one that does not fit waits, and so do those behind it, so a long job is never
/// starved by shorter ones slipping past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub max_batch: usize,
    /// Bytes of working memory all admitted jobs may hold together; `None`: no limit.
    pub memory_budget: Option<u64>,
}

impl Admission {
    /// Whether a job holding `bytes` may join `active` jobs that hold `reserved` bytes (including
    /// those still finishing). A job bigger than the whole budget runs alone rather than never.
    pub fn admits(&self, active: usize, reserved: u64, bytes: u64) -> bool {
        if active >= self.max_batch {
            return false;
        }
        match self.memory_budget {
            None => true,
            Some(_) if reserved == 0 => true,
            Some(budget) => reserved.saturating_add(bytes) <= budget,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Admission;

    #[test]
    fn the_batch_fills_up_to_its_size() {
        let a = Admission {
            max_batch: 2,
            memory_budget: None,
        };
        assert!(a.admits(1, 0, 10));
        assert!(!a.admits(2, 0, 10));
    }

    #[test]
    fn a_job_waits_until_its_memory_fits_beside_the_others() {
        let a = Admission {
            max_batch: 8,
            memory_budget: Some(100),
        };
        assert!(a.admits(1, 60, 40));
        assert!(!a.admits(1, 61, 40));
        // Alone, even an oversized job runs: waiting would never end.
        assert!(a.admits(0, 0, 500));
    }
}
