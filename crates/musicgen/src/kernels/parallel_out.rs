//! The one output buffer the kernels fill in parallel.
//!
//! Every kernel runs on candle's worker threads (`candle_core::utils::barrier_pool`), the ones
//! its quantized matmuls and element-wise ops use: a second pool working in the same step would
//! compete with them for the cores while they spin between ops.

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

/// A kernel's output: `len` values in items of `width` (an attention row, one weight row's
/// products, a chunk of an element-wise map; the last item may be shorter), filled in place by
/// tasks of whole items.
pub(crate) struct ParallelOut<T> {
    values: Vec<T>,
    width: usize,
}

impl<T: Copy + Default + Send> ParallelOut<T> {
    /// `len` values of `T::default()`.
    pub fn zeros(len: usize, width: usize) -> Self {
        assert!(width > 0 || len == 0, "{len} values in items of none");
        Self {
            values: vec![T::default(); len],
            width: width.max(1),
        }
    }

    /// [`fill_in_tasks_of`](Self::fill_in_tasks_of) about eight tasks per thread, as candle
    /// splits its own ops: a thread that finishes early takes over the tasks of one that was
    /// descheduled.
    pub fn fill(self, f: impl Fn(Range<usize>, &mut [T]) + Sync) -> Vec<T> {
        let items = self.values.len().div_ceil(self.width);
        let threads = candle_core::utils::barrier_pool().n_workers() + 1;
        self.fill_in_tasks_of(items.div_ceil(threads * 8), f)
    }

    /// Calls `f(items, values)` once per task of `per_task` items, on candle's threads, with the
    /// task's item range and those items' values; returns all the values.
    pub fn fill_in_tasks_of(
        mut self,
        per_task: usize,
        f: impl Fn(Range<usize>, &mut [T]) + Sync,
    ) -> Vec<T> {
        let width = self.width;
        let per_task = per_task.max(1);
        let items_of = |first: usize, values: &[T]| first..first + values.len().div_ceil(width);
        if self.values.len() <= per_task * width {
            // One task or none: waking the pool would cost more than the work.
            if !self.values.is_empty() {
                f(items_of(0, &self.values), &mut self.values);
            }
            return self.values;
        }
        // Each task's values behind a lock that only that task ever takes, so it never waits:
        // safe code's way to hand disjoint `&mut` runs of one buffer to threads that share one
        // closure.
        let tasks: Vec<Mutex<&mut [T]>> = self
            .values
            .chunks_mut(per_task * width)
            .map(Mutex::new)
            .collect();
        candle_core::utils::barrier_pool().execute_chunked(tasks.len(), |range| {
            for t in range {
                let mut values = tasks[t].lock().unwrap_or_else(PoisonError::into_inner);
                f(items_of(t * per_task, &values), &mut values);
            }
        });
        drop(tasks);
        self.values
    }
}

/// `[columns, rows]` values as `[rows, columns]`. Kernels that split their work by output column
/// (each weight row against every input row) fill one item of `rows` values per column; a
/// product is row-major.
pub(crate) fn columns_to_rows<T: Copy>(values: Vec<T>, rows: usize) -> Vec<T> {
    if rows == 1 {
        return values;
    }
    let columns = values.len() / rows;
    (0..rows)
        .flat_map(|r| values.iter().skip(r).step_by(rows).take(columns).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::columns_to_rows;

    #[test]
    fn columns_become_rows() {
        // Three columns of two rows: [[1, 4], [2, 5], [3, 6]].
        assert_eq!(
            columns_to_rows(vec![1, 4, 2, 5, 3, 6], 2),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert_eq!(columns_to_rows(vec![7, 8, 9], 1), vec![7, 8, 9]);
    }
}
