//! Plumbing every twotier service shares: configuration from the
//! environment, telemetry, identity, the error model, input validation,
//! resource names and paging, idempotency, the database and the gRPC server.
//!
//! A service crate uses these pieces and adds only its domain.

pub mod admission;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod like;
pub mod metrics;
pub mod names;
pub mod paging;
pub mod server;
pub mod startup;
pub mod telemetry;
pub mod time;
pub mod update_mask;
pub mod upstream;
pub mod validate;

pub use error::{Error, Violations};
