//! The customer database: every query, a module per aggregate, and the
//! tables and migrations.

pub mod agreement;
pub mod by_position;
pub mod customer;
pub mod delegated_admin;
pub mod entities;
pub mod migration;
pub mod relationship_request;
