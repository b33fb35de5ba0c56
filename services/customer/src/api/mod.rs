//! The gRPC face of the customer service: decode and validate requests,
//! check which tenant's rows the caller may touch, run the query or the
//! command, convert the reply.

pub mod access;
mod agreement;
mod convert;
mod customer;
mod delegated_admin;

use tonic::Request;
use twotier_outbox::Outbox;
use twotier_partners::PartnerDirectory;
use twotier_platform::Error;
use twotier_platform::auth::Caller;
use twotier_platform::paging::PageTokens;

use crate::domain::{CustomerError, Viewer};

const PROVIDER: [&str; 2] = ["providers", "*"];
const CUSTOMER: [&str; 4] = ["providers", "*", "customers", "*"];
const AGREEMENT: [&str; 5] = ["providers", "*", "customers", "*", "customerAgreement"];
const RESELLER: [&str; 2] = ["resellers", "*"];

/// Aggregate type of the events the customer service appends.
const AGGREGATE: &str = "customer";

/// Implements `CustomerService`.
#[derive(Clone)]
pub struct Api {
    outbox: Outbox,
    directory: PartnerDirectory,
    pages: PageTokens,
}

impl Api {
    /// The API over `outbox`'s database and its partner projection
    /// `directory`, sealing page tokens with `pages`.
    pub fn new(outbox: Outbox, directory: PartnerDirectory, pages: PageTokens) -> Self {
        Self {
            outbox,
            directory,
            pages,
        }
    }

    /// Who the caller is as a viewer of customers: a provider, or the
    /// onboarded reseller whose tenant the caller's token names.
    async fn viewer<T>(&self, request: &Request<T>) -> Result<Viewer, Error> {
        let caller = Caller::of(request)?;
        if caller.is_provider() {
            return Ok(Viewer::Provider(caller.tenant_id.clone()));
        }
        let reseller = self.directory.reseller_of_tenant(&caller.tenant_id).await?;
        match reseller {
            Some(reseller) => Ok(Viewer::Reseller(reseller.partner_id)),
            None => Err(CustomerError::CustomerNotFound.into()),
        }
    }
}
