//! An f32 output that candle's worker threads fill in parallel, each slot written by one task.

use std::sync::atomic::{AtomicU32, Ordering};

/// The values' bits in atomics: relaxed atomic stores are plain stores, so the threads share
/// the output without locks or a copy per task.
pub(crate) struct SharedOut(Vec<AtomicU32>);

impl SharedOut {
    pub fn zeros(len: usize) -> Self {
        Self((0..len).map(|_| AtomicU32::new(0)).collect())
    }

    #[inline(always)]
    pub fn set(&self, i: usize, v: f32) {
        self.0[i].store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.0
            .into_iter()
            .map(|v| f32::from_bits(v.into_inner()))
            .collect()
    }
}
