//! Fresh reads from the customer and partnership services at command time,
//! on behalf of the caller, and what their refusals mean here.

use tonic::Code;
use twotier_partners::eligibility::Ineligible;
use twotier_platform::Error;
use twotier_platform::auth::Caller;
use twotier_platform::upstream::{Upstream, reason_of};
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::customer::{Customer, GetCustomerRequest};
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::partnership::{VerifyPartnerIdRequest, VerifyPartnerIdResponse};

use crate::domain::PartyError;

/// The services the subscription service asks before it acts.
#[derive(Clone)]
pub struct Upstreams {
    customers: Upstream,
    partnerships: Upstream,
}

impl Upstreams {
    /// The customer and partnership services reached through these
    /// upstreams.
    pub fn new(customers: Upstream, partnerships: Upstream) -> Self {
        Self {
            customers,
            partnerships,
        }
    }

    /// The customer `name` as the caller sees it: NOT_FOUND when it does
    /// not exist or is not the caller's (or delegated to the caller).
    pub async fn customer(&self, caller: &Caller, name: &str) -> Result<Customer, Error> {
        let request = self.customers.request(
            caller,
            GetCustomerRequest {
                name: name.to_owned(),
            },
        )?;
        match CustomerServiceClient::new(self.customers.channel())
            .get_customer(request)
            .await
        {
            Ok(response) => Ok(response.into_inner()),
            Err(status)
                if matches!(
                    status.code(),
                    Code::NotFound | Code::InvalidArgument | Code::PermissionDenied
                ) =>
            {
                Err(PartyError::CustomerNotFound.into())
            }
            Err(status) => Err(self.customers.failure(&status)),
        }
    }

    /// R3 for a reseller a request names in `field`, on the partnership
    /// service. Its refusals are read back into R3's one definition and
    /// answered with the same code and reason (R24).
    pub async fn verify_reseller(
        &self,
        caller: &Caller,
        partner_id: &str,
        field: &'static str,
    ) -> Result<VerifyPartnerIdResponse, Error> {
        let request = self.partnerships.request(
            caller,
            VerifyPartnerIdRequest {
                partner_id: partner_id.to_owned(),
            },
        )?;
        match ResellerServiceClient::new(self.partnerships.channel())
            .verify_partner_id(request)
            .await
        {
            Ok(response) => Ok(response.into_inner()),
            Err(status)
                if matches!(
                    status.code(),
                    Code::NotFound | Code::FailedPrecondition | Code::InvalidArgument
                ) =>
            {
                match reason_of(&status)
                    .and_then(|reason| Ineligible::from_reason(&reason, partner_id))
                {
                    Some(ineligible) => Err(ineligible.chosen_in(field).into()),
                    None => Err(PartyError::ResellerRejected {
                        partner_id: partner_id.to_owned(),
                        message: status.message().to_owned(),
                    }
                    .into()),
                }
            }
            Err(status) => Err(self.partnerships.failure(&status)),
        }
    }
}
