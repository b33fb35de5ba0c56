//! The partner directory: a consuming service's own projection of the
//! partnership service's events (`ResellerOnboarded`, `ResellerUpdated`,
//! `PartnershipAccepted`, `PartnershipRemoved`, `ProviderListingChanged`).
//!
//! The customer and subscription services ask it whether a reseller is an
//! active partner of a provider (R9, R19) and which reseller a
//! `ResellerAdmin` token belongs to; the customer service also what a
//! provider's listing calls it (R22's draft). A removed partnership only changes the
//! projection's state (R7); nothing else is touched.

mod directory;
pub mod eligibility;
pub mod entity;
mod handler;
pub mod migration;

pub use directory::{Choice, DirectoryError, PartnerDirectory, ResellerEntry};
pub use handler::{PartnerEvents, handlers};

/// Name of the upstream log in cursors and dead letters.
pub const UPSTREAM: &str = "partnership";
