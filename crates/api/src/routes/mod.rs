//! Handlers, one file per resource.

pub mod audio;
pub mod events;
pub mod health;
pub mod jobs;
pub mod queue;
pub(crate) mod web;
