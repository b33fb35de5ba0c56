//! `ListDelegatedAdminRelationships` (R9) and
//! `EndDelegatedAdminRelationship` (R23).

use chrono::Utc;
use tonic::Request;
use twotier_outbox::{Event, Reply};
use twotier_platform::auth::Caller;
use twotier_platform::{Error, names};
use twotier_proto::customer as pb;

use super::{AGGREGATE, Api, CUSTOMER, DELEGATED_ADMIN, convert};
use crate::domain::{RelationshipError, Viewer};
use crate::store;

impl Api {
    /// The delegations of a customer the caller may see.
    pub(super) async fn relationships(
        &self,
        request: Request<pb::ListDelegatedAdminRelationshipsRequest>,
    ) -> Result<pb::ListDelegatedAdminRelationshipsResponse, Error> {
        let [provider_id, customer_id] =
            names::require(&request.get_ref().parent, &CUSTOMER, "parent")?;
        let viewer = self.viewer(&request).await?;
        let db = self.outbox.db();
        let customer =
            viewer.visible(store::customer::find(db, provider_id, customer_id).await?)?;
        let grants = store::delegated_admin::list(db, &customer.id).await?;
        Ok(pb::ListDelegatedAdminRelationshipsResponse {
            delegated_admin_relationships: grants.into_iter().map(convert::relationship).collect(),
        })
    }

    /// R23: the provider ends a delegation, confirmed: the reseller no
    /// longer sees the customer (nor, through it, its subscriptions).
    /// Subscriptions are the subscription service's and keep their
    /// reseller of record.
    pub(super) async fn end_relationship(
        &self,
        request: Request<pb::EndDelegatedAdminRelationshipRequest>,
    ) -> Result<pb::DelegatedAdminRelationship, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id, customer_id, partner_id] =
            names::require(&request.name, &DELEGATED_ADMIN, "name")?;
        if !request.confirm {
            return Err(RelationshipError::NotConfirmed.into());
        }
        caller.require_own_provider(provider_id)?;
        let viewer = Viewer::Provider(caller.tenant_id.clone());
        self.outbox
            .command(&request.name, None, async |tx| {
                let found = store::customer::find(&**tx, provider_id, customer_id).await?;
                let customer = viewer.visible(found)?;
                let grant = store::delegated_admin::find(&**tx, &customer.id, partner_id)
                    .await?
                    .ok_or(RelationshipError::DelegationNotFound)?;
                if !store::delegated_admin::delete(&**tx, &customer.id, partner_id).await? {
                    return Err(RelationshipError::DelegationNotFound.into());
                }
                if customer.reseller_partner_id.as_deref() == Some(partner_id) {
                    store::customer::change_reseller(&**tx, &customer.id, Some(partner_id), None)
                        .await?
                        .ok_or(RelationshipError::DelegationNotFound)?;
                }
                let relationship = convert::relationship(grant);
                let event = pb::DelegatedAdminEnded {
                    customer: convert::customer_name(&customer.provider_id, &customer.id),
                    relationship: Some(relationship.clone()),
                    ended_by: caller.subject.clone(),
                };
                tx.append(Event::new(
                    AGGREGATE,
                    &customer.id,
                    &customer.provider_id,
                    &event,
                ))
                .await?;
                tracing::info!(customer = %customer.id, %partner_id, at = %Utc::now(), "delegated admin relationship ended");
                Ok::<_, Error>(Reply::new(relationship))
            })
            .await
    }
}
