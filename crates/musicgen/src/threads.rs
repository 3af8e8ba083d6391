//! How many CPU threads the kernels run on, and how that count reaches the two pools (see the
//! crate doc).
//!
//! candle 0.11 starts its worker pool when its first operation runs, sized from the
//! environment (`CANDLE_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the physical cores), and
//! offers no other way to size it; its dense matmuls split their work by `RAYON_NUM_THREADS`
//! too, read on every call. Writing those variables from inside the process (`set_var`) is
//! unsound once other threads run, and they do (tokio's, the api's), so the count has to be in
//! the environment the process starts with: [`restart_with_threads`] puts it there.

/// The variables candle (and rayon's global pool) read their thread count from.
const CANDLE_THREADS: &str = "CANDLE_NUM_THREADS";
const RAYON_THREADS: &str = "RAYON_NUM_THREADS";

/// Makes this process run its kernels on `threads` threads, replacing it with a fresh run of
/// itself where needed. Returns at once when the environment the process started with already
/// gives candle and rayon that count; otherwise runs the same program with the same arguments in
/// its place, with `CANDLE_NUM_THREADS` and `RAYON_NUM_THREADS` set for the new run only
/// (nothing is written into this process's environment). The new run starts from `main` again
/// and finds the count in place, so call this first, before any other work; it returns an error
/// only when the program could not be run again. Where a process cannot be replaced (not Unix)
/// it logs how to set the count and returns.
pub fn restart_with_threads(threads: usize) -> std::io::Result<()> {
    let threads = threads.max(1);
    if [CANDLE_THREADS, RAYON_THREADS]
        .iter()
        .all(|name| count_in(std::env::var(name).ok().as_deref()) == Some(threads))
    {
        return Ok(());
    }
    restart(threads)
}

#[cfg(unix)]
fn restart(threads: usize) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;

    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(std::env::current_exe()?);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    let count = threads.to_string();
    tracing::debug!(
        threads,
        "running again with the thread count in the environment"
    );
    // Returns only if the program could not be run.
    Err(command
        .args(args)
        .env(CANDLE_THREADS, &count)
        .env(RAYON_THREADS, &count)
        .exec())
}

#[cfg(not(unix))]
fn restart(threads: usize) -> std::io::Result<()> {
    tracing::warn!(
        threads,
        "candle's CPU pool is sized from the environment only: start the process with \
         CANDLE_NUM_THREADS and RAYON_NUM_THREADS set to the count"
    );
    Ok(())
}

/// A thread count as the variables give it: a positive integer, else none.
fn count_in(value: Option<&str>) -> Option<usize> {
    value?.trim().parse().ok().filter(|&n| n > 0)
}

/// What a loaded model can do about `LoadOptions::threads` inside a running process: sizes
/// rayon's global pool if nothing has started it yet (rayon's own API), and logs when either
/// pool runs on another count (candle's, which only the environment sizes, or rayon's, when it
/// was already running).
pub(crate) fn use_threads(threads: usize) {
    let threads = threads.max(1);
    // An error only means the pool is already running, with the count checked below.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    let (candle, rayon) = (threads_in_use(), rayon::current_num_threads());
    if (candle, rayon) != (threads, threads) {
        tracing::warn!(
            asked = threads,
            candle,
            rayon,
            "CPU thread counts are fixed when the process starts: start it with \
             CANDLE_NUM_THREADS and RAYON_NUM_THREADS set, as restart_with_threads does; \
             keeping the counts in force"
        );
    }
}

/// The threads a decoding step runs on: candle's worker pool and the thread that calls into it
/// (starting the pool if nothing has yet; its size is fixed either way).
pub fn threads_in_use() -> usize {
    candle_core::utils::barrier_pool().n_workers() + 1
}

#[cfg(test)]
mod tests {
    use super::{count_in, threads_in_use};

    #[test]
    fn only_positive_integers_are_thread_counts() {
        assert_eq!(count_in(Some("4")), Some(4));
        assert_eq!(count_in(Some(" 2\n")), Some(2));
        for bad in [None, Some(""), Some("0"), Some("-1"), Some("two")] {
            assert_eq!(count_in(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_calling_thread_counts_with_candles_workers() {
        let in_use = threads_in_use();
        assert!(in_use >= 1);
        assert_eq!(
            in_use,
            candle_core::utils::barrier_pool().n_workers() + 1,
            "candle's pool changed size"
        );
    }
}
