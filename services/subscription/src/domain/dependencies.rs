//! Fresh reads from the customer and partnership services at command time,
//! on behalf of the caller.

use tonic::Code;
use twotier_platform::auth::Caller;
use twotier_platform::upstream::{Upstream, reason_of};
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::customer::{Customer, GetCustomerRequest};
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::partnership::{VerifyPartnerIdRequest, VerifyPartnerIdResponse};

use super::{Result, SubscriptionError};

/// The services the subscription service asks before it acts.
#[derive(Clone)]
pub struct Dependencies {
    customers: Upstream,
    partnerships: Upstream,
}

impl Dependencies {
    /// Dependencies reached through these upstreams.
    pub fn new(customers: Upstream, partnerships: Upstream) -> Self {
        Self {
            customers,
            partnerships,
        }
    }

    /// The customer `name` as the caller sees it: NOT_FOUND when it does
    /// not exist or is not the caller's (or delegated to the caller).
    pub async fn customer(&self, caller: &Caller, name: &str) -> Result<Customer> {
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
                Err(SubscriptionError::CustomerNotFound)
            }
            Err(status) => Err(self.customers.failure(&status).into()),
        }
    }

    /// R3 for a reseller of record, on the partnership service.
    pub async fn verify_reseller(
        &self,
        caller: &Caller,
        partner_id: &str,
    ) -> Result<VerifyPartnerIdResponse> {
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
                let reason = match reason_of(&status).as_deref() {
                    Some("PARTNER_ID_NOT_FOUND") => "PARTNER_ID_NOT_FOUND",
                    Some("PARTNER_ID_NOT_LOCATION_ACCOUNT") => "PARTNER_ID_NOT_LOCATION_ACCOUNT",
                    Some("PARTNER_MPA_NOT_ACTIVE") => "PARTNER_MPA_NOT_ACTIVE",
                    _ => "RESELLER_OF_RECORD_INVALID",
                };
                Err(SubscriptionError::ResellerOfRecordRejected {
                    partner_id: partner_id.to_owned(),
                    reason,
                    message: status.message().to_owned(),
                })
            }
            Err(status) => Err(self.partnerships.failure(&status).into()),
        }
    }
}
