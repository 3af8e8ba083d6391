//! The web page: static files from the web folder, plus `/jobs/{id}` so a job page has a real,
//! shareable URL (the page's script routes on `location.pathname`).

use std::path::Path;

use axum::routing::get_service;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

use crate::state::AppState;

pub(crate) fn web_router(web_dir: &Path) -> Router<AppState> {
    let index = ServeFile::new(web_dir.join("index.html"));
    Router::new()
        .route("/jobs/{id}", get_service(index))
        .fallback_service(ServeDir::new(web_dir))
}
