//! The customer's side of R22: its admin accepts a reseller relationship
//! request with the token from the link, and the delegated admin
//! relationship is recorded with R9's effects.

use chrono::Utc;
use tonic::Request;
use twotier_outbox::{Contested, Event, Reply, audit_as};
use twotier_platform::Error;
use twotier_platform::auth::Caller;
use twotier_proto::customer as pb;

use super::convert::{self, relationship as requests};
use super::{AGGREGATE, Api};
use crate::domain::{
    Customer, CustomerError, PersonalLink, RelationshipError, RelationshipRequest, Reseller,
};
use crate::store;

impl Api {
    /// The request `token` opens and its customer, if the caller is an
    /// admin of that customer (its tenant is the customer's initial
    /// domain); to anyone else the token opens nothing.
    async fn opened_by(
        &self,
        db: &(impl sea_orm::ConnectionTrait + twotier_platform::by_position::ReadFrom),
        caller: &Caller,
        token: &str,
    ) -> Result<(RelationshipRequest, Customer), Error> {
        let found = store::relationship_request::of_token(db, token)
            .await?
            .ok_or(RelationshipError::NotFound)?;
        let customer = store::customer::find(db, &found.provider_id, &found.customer_id)
            .await?
            // Domain names are case-insensitive; the prefix is stored
            // lower-cased, an identity provider may write it otherwise.
            .filter(|customer| customer.domain().eq_ignore_ascii_case(&caller.tenant_id))
            .ok_or(RelationshipError::NotFound)?;
        // Whatever becomes of it, the provider's trail shows what its
        // customer's admin did with the request (R29).
        audit_as(&requests::request_name(&found));
        Ok((found, customer))
    }

    /// R22: the caller, an admin of the customer, accepts the request its
    /// token opens.
    pub(super) async fn accept_relationship(
        &self,
        request: Request<pb::AcceptResellerRelationshipRequest>,
    ) -> Result<pb::DelegatedAdminRelationship, Error> {
        let caller = Caller::of(&request)?.clone();
        let token = request.get_ref().token.trim();
        if token.is_empty() || token.len() > 128 {
            return Err(Error::invalid_field(
                "INVALID_TOKEN_FORMAT",
                "token",
                "must be the token from the reseller relationship link",
            ));
        }
        let db = self.outbox.db();
        self.outbox
            .audited("", "", async {
                let (found, customer) = self.opened_by(db, &caller, token).await?;
                // Accepting again once delegated to that reseller answers the
                // relationship (as R5 answers the partnership); a revoked or
                // expired link fails as such.
                if let Some(existing) = self.delegated(db, &customer, &found).await? {
                    return self.answer_delegated(&caller, &found, existing).await;
                }
                // A dead link fails as such before the reseller is even looked at.
                found
                    .check_usable(Utc::now())
                    .map_err(RelationshipError::from)?;
                // R24: checked again now, outside the unit of work (it may wait for
                // the partner projection to catch up).
                let partner = self
                    .chosen_reseller(&found.provider_id, &found.partner_id)
                    .await?;
                match self.accept_once(&caller, token, partner).await {
                    Ok(relationship) => Ok(relationship),
                    Err(Contested::Failed(error)) => Err(error),
                    // A concurrent acceptance (of this link or another to
                    // the same reseller) won: its relationship is the
                    // answer, as to a retry, and this link is used up by
                    // it. Otherwise the link was closed meanwhile, and the
                    // caller hears how (a revocation is no use of it), or
                    // the customer was delegated to another reseller.
                    Err(Contested::Lost(())) => {
                        let (found, customer) = self.opened_by(db, &caller, token).await?;
                        if let Some(existing) = self.delegated(db, &customer, &found).await? {
                            return self.answer_delegated(&caller, &found, existing).await;
                        }
                        found
                            .check_usable(Utc::now())
                            .map_err(RelationshipError::from)?;
                        Err(match customer.reseller_partner_id {
                            Some(other) => RelationshipError::AlreadyDelegated(other),
                            None => RelationshipError::AlreadyUsed,
                        }
                        .into())
                    }
                }
            })
            .await
    }

    /// R22: the answer to accepting `found` while its customer is delegated
    /// to its reseller already (as R5 answers the partnership): `existing`,
    /// with a pending link used up by it; a revoked or expired link fails
    /// as such, and a reseller no longer a partner or no longer passing R3
    /// is refused as at a first acceptance (R24). A unit of work of its
    /// own either way, so the acceptance is in the audit trail (R29, under
    /// the request) even when it changes nothing.
    async fn answer_delegated(
        &self,
        caller: &Caller,
        found: &RelationshipRequest,
        existing: pb::DelegatedAdminRelationship,
    ) -> Result<pb::DelegatedAdminRelationship, Error> {
        let used = found.accept_as_delegated(Utc::now(), &caller.subject)?;
        self.chosen_reseller(&found.provider_id, &found.partner_id)
            .await??;
        self.outbox
            .command("", None, async |tx| {
                if let Some(used) = &used {
                    // Lost to a concurrent close: used up either way.
                    store::relationship_request::close(&**tx, used).await?;
                }
                Ok::<_, Error>(Reply::new(existing.clone()))
            })
            .await
    }

    /// The relationship `found` made, if its customer is delegated to its
    /// reseller now.
    async fn delegated(
        &self,
        db: &(impl sea_orm::ConnectionTrait + twotier_platform::by_position::ReadFrom),
        customer: &Customer,
        found: &RelationshipRequest,
    ) -> Result<Option<pb::DelegatedAdminRelationship>, Error> {
        if customer.reseller_partner_id.as_deref() != Some(found.partner_id.as_str()) {
            return Ok(None);
        }
        let grant = store::delegated_admin::find(db, &customer.id, &found.partner_id).await?;
        Ok(grant.map(convert::relationship))
    }

    /// The unit of work of an acceptance; `Lost` when a concurrent
    /// acceptance of the same link got there first.
    async fn accept_once(
        &self,
        caller: &Caller,
        token: &str,
        partner: Result<Reseller, CustomerError>,
    ) -> Result<pb::DelegatedAdminRelationship, Contested<()>> {
        let reseller = partner.as_ref().ok().map(convert::reseller_contact);
        self.outbox
            .command("", None, async |tx| {
                let (found, customer) = self.opened_by(&**tx, caller, token).await?;
                let accepted = match found.accept(Utc::now(), &customer, partner, &caller.subject) {
                    Ok(accepted) => accepted,
                    // Closed, or the customer delegated, to this reseller
                    // since the checks above: another acceptance won.
                    Err(RelationshipError::AlreadyUsed) => return Err(Contested::Lost(())),
                    Err(RelationshipError::AlreadyDelegated(to)) if to == found.partner_id => {
                        return Err(Contested::Lost(()));
                    }
                    Err(refused) => return Err(refused.into()),
                };
                // Single use: only the first acceptance moves the request
                // out of `pending`.
                let closed = store::relationship_request::close(&**tx, &accepted.request)
                    .await?
                    .ok_or(Contested::Lost(()))?;
                let partner_id = accepted.grant.partner_id.as_str();
                // Delegated since it was read (by another link accepted at
                // the same time): the caller hears who won once this
                // transaction is rolled back.
                store::customer::change_reseller(&**tx, &customer.id, None, Some(partner_id))
                    .await?
                    .ok_or(Contested::Lost(()))?;
                let grant = store::delegated_admin::insert(&**tx, &accepted.grant).await?;
                let relationship = convert::relationship(grant);
                let customer_name = convert::customer_name(&customer.provider_id, &customer.id);
                audit_as(&relationship.name);
                let granted = pb::DelegatedAdminGranted {
                    customer: customer_name,
                    relationship: Some(relationship.clone()),
                };
                tx.append(Event::new(
                    AGGREGATE,
                    &customer.id,
                    &customer.provider_id,
                    &granted,
                ))
                .await?;
                let event = pb::ResellerRelationshipAccepted {
                    reseller_relationship_request: Some(requests::request(&closed, Utc::now())),
                    customer_company_name: customer.company_name.clone(),
                    customer_domain: customer.domain(),
                    reseller: reseller.clone(),
                    provider_contact: Some(pb::ProviderContact {
                        email: closed.created_by_email.clone(),
                    }),
                };
                tx.append(requests::event(&closed, &event)).await?;
                tracing::info!(
                    customer = %customer.id,
                    partner_id = %closed.partner_id,
                    "reseller relationship accepted"
                );
                Ok(Reply::new(relationship))
            })
            .await
    }
}
