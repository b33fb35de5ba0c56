//! The transactional outbox, read as a log (ARCHITECTURE.md, "Cross-service
//! coordination").
//!
//! 1. A command appends its events in its own transaction ([`Outbox::begin`],
//!    [`Tx::append`]); rows are written without a position, each with the
//!    tenant it concerns.
//! 2. The [`Sequencer`] gives committed rows strictly increasing, gap-free
//!    positions in its own short transaction, one sequencer per database at a
//!    time. On SQLite, whose transactions write one at a time, a command
//!    numbers each row as it writes it ([`Tx::append`]).
//! 3. [`EventLog`] serves the log over gRPC (`twotier.events.v1.EventLogService`):
//!    replay from the table, then follow new positions as they are sequenced;
//!    a provider's own backend reads only its tenant's events, redacted
//!    (the tenant feed, R30).
//! 4. A [`Consumer`] in another service keeps its cursor in its own database
//!    and advances it in the transaction that applies the event's effects;
//!    failing events become dead letters ([`DeadLetters`]) after a bounded
//!    number of attempts.

pub mod audit;
mod command;
mod consumer;
mod dead_letters;
pub mod entity;
mod envelope;
mod feed;
mod handler;
mod handlers;
mod log_server;
pub mod migration;
mod open_feeds;
pub mod projection;
mod sequencer;
mod statistics;
mod writer;

pub use audit::audit_as;
pub use command::{Contested, Reply};
pub use consumer::{Consumer, ConsumerSettings, Freshness};
pub use dead_letters::DeadLetters;
pub use envelope::decode_payload;
pub use feed::is_withheld;
pub use handler::{EventHandler, HandleError};
pub use handlers::{Handlers, Handles};
pub use log_server::EventLog;
pub use open_feeds::MAX_FEEDS_PER_TENANT;
pub use sequencer::Sequencer;
pub use writer::{Event, Outbox, Tx};
