//! The gRPC face of the customer service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

pub mod access;
mod customers;
mod validation;

use tonic::Status;
use twotier_platform::Error;

use crate::domain::{CustomerError, Customers};

/// Implements `CustomerService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Customers,
}

impl Api {
    /// The API over `domain`.
    pub fn new(domain: Customers) -> Self {
        Self { domain }
    }
}

impl From<CustomerError> for Status {
    fn from(error: CustomerError) -> Self {
        Error::from(error).into()
    }
}
