//! The HTTP API driven in process against real Redis and a SQLite ledger.

mod common;

mod auth;
mod cancel;
mod events;
mod limits;
mod openapi;
mod service;
mod submit;
mod validation;
