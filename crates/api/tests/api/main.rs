//! The HTTP API driven in process against real Redis and a SQLite ledger.

mod common;

mod audio;
mod auth;
mod cancel;
mod events;
mod limits;
mod openapi;
mod serve;
mod service;
mod submit;
mod validation;
