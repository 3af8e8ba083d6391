//! What every handler shares, handed to them through `State<AppState>`.

use std::path::PathBuf;
use std::sync::Arc;

use coda_jobs::{Coda, SettingsError};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;

use crate::settings::{AuthSettings, HttpSettings};

/// What the HTTP layer runs on: its configuration sections and where the page lives.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    pub http: HttpSettings,
    pub auth: AuthSettings,
    /// Folder of the web page, served at `/`; `/jobs/{id}` answers its `index.html`.
    pub web_dir: PathBuf,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            http: HttpSettings::default(),
            auth: AuthSettings::default(),
            web_dir: PathBuf::from("web"),
        }
    }
}

impl ApiOptions {
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.http.validate()
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
