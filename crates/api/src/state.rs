//! What every handler shares, handed to them through `State<AppState>`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use coda_jobs::Coda;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;

/// Knobs of the HTTP layer that are not part of the shared [`coda_jobs::Settings`].
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Folder of the web page, served at `/`; `/jobs/{id}` answers its `index.html`.
    pub web_dir: PathBuf,
    /// Take the client address for per-client limits from the last `X-Forwarded-For` entry
    /// (the one the reverse proxy appended). Only safe behind a proxy that sets it.
    pub trust_forwarded_for: bool,
    /// How often an open event stream re-reads its job.
    pub events_poll_interval: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            web_dir: PathBuf::from("web"),
            trust_forwarded_for: false,
            events_poll_interval: Duration::from_millis(500),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub coda: Coda,
    pub metrics: PrometheusHandle,
    pub options: Arc<ApiOptions>,
    /// Flipped to `true` when the server starts shutting down, so that long-lived event streams
    /// end and graceful shutdown does not wait on them forever.
    shutdown: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub fn new(coda: Coda, metrics: PrometheusHandle, options: ApiOptions) -> Self {
        let (shutdown, _) = watch::channel(false);
        Self {
            coda,
            metrics,
            options: Arc::new(options),
            shutdown: Arc::new(shutdown),
        }
    }

    /// Ends every open event stream; new ones end at once.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
