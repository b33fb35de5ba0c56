//! The gRPC face of the customer service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

pub mod access;
mod customers;
mod validation;

use tonic::Status;
use twotier_platform::Error;
use twotier_platform::paging::PageTokens;

use crate::domain::{CustomerError, Customers};

/// Implements `CustomerService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Customers,
    pages: PageTokens,
}

impl Api {
    /// The API over `domain`, sealing page tokens with `pages`.
    pub fn new(domain: Customers, pages: PageTokens) -> Self {
        Self { domain, pages }
    }
}

impl From<CustomerError> for Status {
    fn from(error: CustomerError) -> Self {
        Error::from(error).into()
    }
}
