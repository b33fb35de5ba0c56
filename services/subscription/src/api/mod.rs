//! The gRPC face of the subscription service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

pub mod access;
mod carts;
mod catalog;
mod subscriptions;

use tonic::Status;
use twotier_platform::Error;
use twotier_platform::auth::Caller;
use twotier_platform::paging::PageTokens;

use crate::domain::{SubscriptionError, Subscriptions};

/// Implements `SubscriptionService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Subscriptions,
    pages: PageTokens,
}

impl Api {
    /// The API over `domain`, sealing page tokens with `pages`.
    pub fn new(domain: Subscriptions, pages: PageTokens) -> Self {
        Self { domain, pages }
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
