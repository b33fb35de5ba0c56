//! The notification database: tables and migrations.

pub mod entities;
pub mod migration;
