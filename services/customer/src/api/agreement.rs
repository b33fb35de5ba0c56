//! `RecordCustomerAgreement` and `GetCustomerAgreement` (R12).

use chrono::Utc;
use tonic::Request;
use twotier_outbox::{Event, Reply};
use twotier_platform::auth::Caller;
use twotier_platform::{Error, Violations, names};
use twotier_proto::customer as pb;

use super::{AGGREGATE, AGREEMENT, Api, CUSTOMER, convert};
use crate::domain::{AgreementError, CustomerAgreement, Viewer};
use crate::store;

impl Api {
    /// Records (or replaces) the attestation and marks the customer as
    /// having accepted.
    pub(super) async fn record_agreement(
        &self,
        request: Request<pb::RecordCustomerAgreementRequest>,
    ) -> Result<pb::CustomerAgreement, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id, customer_id] = names::require(&request.parent, &CUSTOMER, "parent")?;
        let mut violations = Violations::new();
        let attestation = convert::attestation(
            request.customer_agreement.unwrap_or_default(),
            Utc::now().date_naive(),
            &mut violations,
        );
        violations.into_result("INVALID_CUSTOMER_AGREEMENT")?;
        caller.require_own_provider(provider_id)?;
        let viewer = Viewer::Provider(caller.tenant_id.clone());
        self.outbox
            .command(&request.parent, None, async |tx| {
                let found = store::customer::find(&**tx, provider_id, customer_id).await?;
                let customer = viewer.visible(found)?;
                if let Some(current) = store::agreement::find(&**tx, &customer.id).await?
                    && current.records(&attestation)
                {
                    return Ok(Reply::new(convert::agreement(current)));
                }
                let agreement =
                    CustomerAgreement::record(&customer, attestation, &caller.subject, Utc::now());
                store::agreement::save(&**tx, &agreement).await?;
                store::customer::accept_agreement(&**tx, &customer.id).await?;
                let recorded = store::agreement::find(&**tx, &customer.id)
                    .await?
                    .ok_or(AgreementError::NotRecorded)?;
                let recorded = convert::agreement(recorded);
                let event = pb::CustomerAgreementAccepted {
                    customer: convert::customer_name(&customer.provider_id, &customer.id),
                    customer_agreement: Some(recorded.clone()),
                };
                tx.append(Event::new(
                    AGGREGATE,
                    &customer.id,
                    &customer.provider_id,
                    &event,
                ))
                .await?;
                Ok::<_, Error>(Reply::new(recorded))
            })
            .await
    }

    /// The attestation of a customer the caller may see.
    pub(super) async fn agreement(
        &self,
        request: Request<pb::GetCustomerAgreementRequest>,
    ) -> Result<pb::CustomerAgreement, Error> {
        let [provider_id, customer_id] =
            names::require(&request.get_ref().name, &AGREEMENT, "name")?;
        let viewer = self.viewer(&request).await?;
        let db = self.outbox.db();
        let customer =
            viewer.visible(store::customer::find(db, provider_id, customer_id).await?)?;
        let agreement = store::agreement::find(db, &customer.id)
            .await?
            .ok_or(AgreementError::NotRecorded)?;
        let mut shown = convert::agreement(agreement);
        // A reseller sees the customer's attestation, not which of the
        // provider's users recorded it.
        if matches!(viewer, Viewer::Reseller(_)) {
            shown.recorded_by.clear();
        }
        Ok(shown)
    }
}
