//! The HTTP face of Coda: REST under `/api/v1`, a per-job event stream, the OpenAPI document,
//! Prometheus metrics, health probes and the static web page.
//!
//! It runs no inference. Every handler is a thin async translation between HTTP and the
//! [`coda_jobs::Coda`] facade, which it reaches through `State<AppState>`; nothing here blocks.
//! Errors from every layer end in [`ApiError`] through `From` impls, whose `code()` and HTTP
//! status are decided in one place (`error.rs`); the codes are the api's alone.
//! Configuration: this crate owns the `http` and `auth` sections ([`HttpSettings`],
//! [`AuthSettings`]), handed in with the page's folder as [`ApiOptions`]. Event streams poll the facade and end on a final state or at shutdown.

mod auth;
mod error;
mod extract;
mod metrics;
mod openapi;
pub mod routes;
mod server;
mod settings;
mod state;

pub use auth::ClientId;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use extract::BODY_LIMIT_BYTES;
pub use metrics::install_metrics_recorder;
pub use server::{openapi, router, serve, serve_state, Error};
pub use settings::{AuthSettings, HttpSettings};
pub use state::{ApiOptions, AppState};
