//! The subscription database: every query, a module per aggregate, and the
//! migrations with the seeded catalog.

mod by_position;
pub mod cart;
pub mod catalog;
pub mod entities;
pub mod migration;
pub mod order;
pub mod subscription;
