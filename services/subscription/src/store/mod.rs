//! The subscription database: tables, migrations and the seeded catalog.

pub mod catalog;
pub mod entities;
pub mod migration;
