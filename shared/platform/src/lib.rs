//! Plumbing every twotier service shares: configuration from the
//! environment, telemetry, identity, the error model, input validation,
//! resource names and paging, idempotency, the database, the gRPC server
//! with its defences (admission, connection limits, TLS) and the client
//! channels to other services.
//!
//! A service crate uses these pieces and adds only its domain.

pub mod admission;
pub mod auth;
pub mod by_position;
pub mod capability;
pub mod change;
pub mod channel;
pub mod config;
pub mod connections;
pub mod db;
mod deadline;
pub mod email_draft;
pub mod error;
pub mod files;
pub mod guarded;
pub mod held_reads;
pub mod idempotency;
pub mod inline_reads;
pub mod like;
mod log_format;
pub mod metrics;
pub mod name_key;
pub mod names;
pub mod paging;
pub mod personal_link;
pub mod rate_limit;
pub mod readiness;
pub mod receive;
pub mod server;
pub mod service_error;
pub mod startup;
pub mod telemetry;
pub mod time;
pub mod tls;
pub mod update_mask;
pub mod upstream;
pub mod validate;

pub use error::{Error, Violations};

/// The twotier release this binary belongs to (every crate shares the
/// workspace version): shown by `--version`, sent as the `twotier-version`
/// response header and reported as `service.version` on telemetry.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use service_error::{ErrorCode, ServiceError};
