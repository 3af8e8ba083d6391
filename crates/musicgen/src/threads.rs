//! How many CPU threads candle's kernels use.
//!
//! candle 0.11 keeps a process-wide pool of spinning worker threads for quantized matmuls and
//! element-wise ops, sized once from `CANDLE_NUM_THREADS` (else `RAYON_NUM_THREADS`, else the
//! physical cores) when the first such op runs; dense matmuls re-read `RAYON_NUM_THREADS` on
//! every call. A rayon pool around the computation does not reach either, so the count has to
//! be set through the environment, once, before the first tensor operation.

use std::sync::OnceLock;

static CONFIGURED: OnceLock<usize> = OnceLock::new();

/// Sets the thread count for all of candle's CPU kernels in this process and returns the
/// count in force. Only the first call counts (candle sizes its pool once); a later call asking
/// for another count is logged and ignored. Call it before loading a model.
pub fn set_threads(threads: usize) -> usize {
    let threads = threads.max(1);
    let in_force = *CONFIGURED.get_or_init(|| {
        // Edition 2021: `set_var` is safe. This runs before any model work reads the variables.
        std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        tracing::debug!(threads, "candle CPU threads set");
        threads
    });
    if in_force != threads {
        tracing::warn!(
            asked = threads,
            in_force,
            "CPU threads are fixed per process at first use; keeping the earlier count"
        );
    }
    in_force
}

/// The thread count candle's kernels use in this process (the count set with [`set_threads`],
/// else what candle derives from the environment and the machine).
pub fn threads_in_use() -> usize {
    CONFIGURED.get().copied().unwrap_or_else(|| {
        std::env::var("CANDLE_NUM_THREADS")
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(candle_core::utils::get_num_threads)
    })
}
