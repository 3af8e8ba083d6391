//! The codebook delay pattern: codebook `k` runs `k` steps behind codebook 0, so one decoding
//! step predicts frame `f` of codebook 0 together with frame `f − k` of codebook `k`.
//!
//! Positions count the fed sequence: position 0 is the start token for every codebook and
//! decoding step `s` predicts position `s + 1`. Codebook `k` holds the pad token at positions
//! `≤ k` (not started yet) and `> frames + k` (already finished); those forced tokens are
//! still fed back as inputs, exactly as the reference does.

/// Where each codebook's frames sit for a piece of `frames` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayPattern {
    pub codebooks: usize,
    pub frames: usize,
    /// Pad, start and "finished" token: one past the last code.
    pub pad: u32,
}

impl DelayPattern {
    /// Decoding steps needed: `frames + codebooks − 1`.
    pub fn steps(&self) -> usize {
        self.frames + self.codebooks - 1
    }

    /// The token position `position` of codebook `k` is forced to, if any.
    pub fn forced(&self, k: usize, position: usize) -> Option<u32> {
        (position <= k || position > self.frames + k).then_some(self.pad)
    }

    /// Removes the delay: `codes[k][t] = delayed[k][t + 1 + k]`. `delayed` holds, per codebook,
    /// every position from 0 through `steps()`.
    pub fn undo(&self, delayed: &[Vec<u32>]) -> Vec<Vec<u32>> {
        delayed
            .iter()
            .enumerate()
            .map(|(k, row)| row[k + 1..k + 1 + self.frames].to_vec())
            .collect()
    }

    /// Applies the delay to plain codes (the inverse of [`undo`](Self::undo)): how a model is
    /// fed known codes to compare its choices step by step.
    #[cfg(any(test, feature = "testing"))]
    pub fn apply(&self, codes: &[Vec<u32>]) -> Vec<Vec<u32>> {
        (0..self.codebooks)
            .map(|k| {
                (0..=self.steps())
                    .map(|p| self.forced(k, p).unwrap_or_else(|| codes[k][p - k - 1]))
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_frames_of_four_codebooks() {
        let pattern = DelayPattern {
            codebooks: 4,
            frames: 3,
            pad: 9,
        };
        let codes: Vec<Vec<u32>> = (0..4)
            .map(|k| (0..3).map(|t| 10 * k + t).collect())
            .collect();
        let delayed = pattern.apply(&codes);
        assert_eq!(pattern.steps(), 6);
        assert_eq!(delayed[0], vec![9, 0, 1, 2, 9, 9, 9]);
        assert_eq!(delayed[1], vec![9, 9, 10, 11, 12, 9, 9]);
        assert_eq!(delayed[3], vec![9, 9, 9, 9, 30, 31, 32]);
        assert_eq!(pattern.undo(&delayed), codes);
    }
}
