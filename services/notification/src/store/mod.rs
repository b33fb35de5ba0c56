//! The notification database: every query and migration, a module per
//! aggregate.

pub mod entities;
pub mod migration;
pub mod notification;
pub mod provider_profile;
