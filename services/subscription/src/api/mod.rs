//! The gRPC face of the subscription service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

pub mod access;
mod carts;
mod catalog;
mod subscriptions;

use tonic::Status;
use twotier_platform::Error;
use twotier_platform::auth::Caller;

use crate::domain::{SubscriptionError, Subscriptions};

/// Implements `SubscriptionService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Subscriptions,
}

impl Api {
    /// The API over `domain`.
    pub fn new(domain: Subscriptions) -> Self {
        Self { domain }
    }
}

impl From<SubscriptionError> for Status {
    fn from(error: SubscriptionError) -> Self {
        Error::from(error).into()
    }
}

/// The caller, which must be a provider user.
fn provider<T>(request: &tonic::Request<T>) -> Result<Caller, Error> {
    let caller = Caller::of(request)?;
    caller.require_provider()?;
    Ok(caller.clone())
}
