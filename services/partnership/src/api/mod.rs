//! The gRPC face of the partnership service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

pub mod access;
mod listings;
mod partnerships;
mod resellers;

use tonic::Status;
use twotier_platform::Error;

use crate::domain::{PartnershipError, Partnerships};

/// Implements `ProviderListingService`, `ResellerService` and
/// `PartnershipService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Partnerships,
}

impl Api {
    /// The API over `domain`.
    pub fn new(domain: Partnerships) -> Self {
        Self { domain }
    }
}

impl From<PartnershipError> for Status {
    fn from(error: PartnershipError) -> Self {
        Error::from(error).into()
    }
}
