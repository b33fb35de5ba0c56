//! The gRPC face of the partnership service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

pub mod access;
mod listings;
mod partnerships;
mod resellers;

use tonic::Status;
use twotier_platform::Error;
use twotier_platform::paging::PageTokens;

use crate::domain::{PartnershipError, Partnerships};

/// Implements `ProviderListingService`, `ResellerService` and
/// `PartnershipService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Partnerships,
    pages: PageTokens,
}

impl Api {
    /// The API over `domain`, sealing page tokens with `pages`.
    pub fn new(domain: Partnerships, pages: PageTokens) -> Self {
        Self { domain, pages }
    }
}

impl From<PartnershipError> for Status {
    fn from(error: PartnershipError) -> Self {
        Error::from(error).into()
    }
}
