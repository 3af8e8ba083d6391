//! Where submissions and released memory wait for the stepping thread.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A queue with a wake-up: the stepping thread sleeps on it when it has nothing to step.
pub(crate) struct Inbox<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
}

pub(crate) struct State<T> {
    pub jobs: VecDeque<T>,
    /// Working memory given back by finished jobs since the stepping thread last looked.
    pub released: u64,
    /// No more submissions will come (the engine's handle is gone).
    pub closed: bool,
}

impl<T> Inbox<T> {
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                released: 0,
                closed: false,
            }),
            wake: Condvar::new(),
        }
    }

    /// A poisoned lock only means another thread panicked while holding it; the queue itself is
    /// always left whole, so it is used as it is.
    pub fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn change(&self, f: impl FnOnce(&mut State<T>)) {
        f(&mut self.lock());
        self.wake.notify_all();
    }

    /// Sleeps until woken or `timeout` passes (`None`: until woken).
    pub fn wait<'a>(
        &self,
        guard: MutexGuard<'a, State<T>>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, State<T>> {
        match timeout {
            None => self.wake.wait(guard).unwrap_or_else(|e| e.into_inner()),
            Some(t) => {
                self.wake
                    .wait_timeout(guard, t)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        }
    }
}
