//! The provider's side of R22: request a reseller relationship with an
//! existing customer, have twotier email it, read, list and revoke the
//! requests. A request's token is a capability token derived from its id:
//! the database keeps only its hash, stored replies and events carry a
//! marker instead.

use chrono::{TimeDelta, Utc};
use tonic::Request;
use twotier_outbox::{Reply, audit_as};
use twotier_platform::auth::Caller;
use twotier_platform::capability;
use twotier_platform::idempotency::{self, IdempotencyKey};
use twotier_platform::personal_link;
use twotier_platform::{Error, Violations, names, paging, validate};
use twotier_proto::customer as pb;

use super::convert::relationship as convert;
use super::{Api, CUSTOMER, RELATIONSHIP_REQUEST, partner_id_form};
use crate::domain::{
    Customer, DraftError, NewRelationshipRequest, PersonalLink, RelationshipError,
    RelationshipRequest, Viewer, relationship_request,
};
use crate::store;

/// The kind under which relationship tokens are derived.
pub(super) const RELATIONSHIP_KIND: &str = "relationship";

fn draft_failed(error: DraftError) -> Error {
    Error::Internal(error.to_string())
}

impl Api {
    pub(super) fn relationship_token(&self, request_id: &str) -> String {
        self.capabilities.token(RELATIONSHIP_KIND, request_id)
    }

    fn relationship_link(&self, token: &str) -> String {
        relationship_request::link(&self.settings.relationship_link_base, token)
    }

    /// The customer `customer_id` of the calling provider `provider_id`.
    async fn own_customer(
        &self,
        db: &(impl sea_orm::ConnectionTrait + twotier_platform::by_position::ReadFrom),
        provider_id: &str,
        customer_id: &str,
    ) -> Result<Customer, Error> {
        let found = store::customer::find(db, provider_id, customer_id).await?;
        Ok(Viewer::Provider(provider_id.to_owned()).visible(found)?)
    }

    /// R22: creates a request and answers its link and email draft.
    pub(super) async fn request_relationship(
        &self,
        request: Request<pb::RequestResellerRelationshipRequest>,
    ) -> Result<pb::RequestResellerRelationshipResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id, customer_id] = names::require(&request.parent, &CUSTOMER, "parent")?;
        let mut violations = Violations::new();
        if !request.customer_admin_email.is_empty() {
            let email = validate::email(&request.customer_admin_email);
            violations.check("customer_admin_email", email);
        }
        if !request.language_code.is_empty() {
            let language = validate::language(&request.language_code);
            violations.check("language_code", language);
        }
        violations.check("request_id", validate::request_id(&request.request_id));
        if request.partner_id.is_empty() {
            violations.add("partner_id", "required: the PartnerID of the reseller");
        } else {
            partner_id_form(&request.partner_id, "partner_id", &mut violations)?;
        }
        violations.into_result("INVALID_RELATIONSHIP_REQUEST")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "customer.RequestResellerRelationship",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        let db = self.outbox.db();
        let token_of = |id: &str| self.relationship_token(id);
        // A retry is answered before the reseller check, whose answer may
        // have changed since the first attempt.
        if let Some(replay) = idempotency::peek(db, key.as_ref()).await? {
            return Ok(convert::unsealed(replay, token_of));
        }
        self.outbox
            .audited(&request.parent, &request.request_id, async {
                self.own_customer(db, provider_id, customer_id).await?;
                let reseller = self
                    .chosen_reseller(provider_id, &request.partner_id)
                    .await??;
                let ttl = TimeDelta::from_std(self.settings.relationship_ttl)
                    .map_err(|e| Error::Internal(format!("relationship ttl: {e}")))?;
                let asked = NewRelationshipRequest {
                    admin_email: request.customer_admin_email.clone(),
                    language_code: request.language_code.clone(),
                    created_by: caller.subject.clone(),
                    created_by_email: caller.email.clone().unwrap_or_default(),
                };
                let response = self
                    .outbox
                    .command(&request.parent, key.as_ref(), async |tx| {
                        let customer = self.own_customer(&**tx, provider_id, customer_id).await?;
                        let now = Utc::now();
                        let new = RelationshipRequest::new(&customer, &reseller, asked, now, ttl)?;
                        let token = self.relationship_token(&new.id);
                        let created =
                            store::relationship_request::insert(&**tx, &new, &token).await?;
                        let link = self.relationship_link(&token);
                        let provider_name = self
                            .directory
                            .provider_display_name(&**tx, provider_id)
                            .await?;
                        let draft = self
                            .drafts
                            .draft(&created, &customer, &provider_name, &link)
                            .map_err(draft_failed)?;
                        let resource = convert::request(&created, now);
                        audit_as(&resource.name);
                        let event = pb::ResellerRelationshipRequested {
                            reseller_relationship_request: Some(resource.clone()),
                        };
                        tx.append(convert::event(&created, &event)).await?;
                        let answer = pb::RequestResellerRelationshipResponse {
                            reseller_relationship_request: Some(resource),
                            relationship_link: link,
                            email_draft: Some(convert::email_draft(draft)),
                        };
                        let stored = convert::sealed(&answer, &token);
                        Ok::<_, Error>(Reply::with_retry(answer, stored))
                    })
                    .await?;
                // A retry gets the sealed reply; a first answer holds no marker.
                Ok::<_, Error>(convert::unsealed(response, token_of))
            })
            .await
    }

    /// R22 (as R4): queues the (edited) email to the customer's admin; the
    /// body must still hold the request's exact link.
    pub(super) async fn send_relationship_email(
        &self,
        request: Request<pb::SendResellerRelationshipEmailRequest>,
    ) -> Result<pb::SendResellerRelationshipEmailResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let name = &request.reseller_relationship_request;
        let [provider_id, customer_id, request_id] =
            names::require(name, &RELATIONSHIP_REQUEST, "reseller_relationship_request")?;
        let mut violations = Violations::new();
        if !request.subject.is_empty() {
            violations.check("subject", validate::line(&request.subject, 1, 200));
        }
        // No minimum: an empty body lacks the link, and is refused as such.
        violations.check("body", validate::text(&request.body, 0, 20_000));
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.into_result("INVALID_RELATIONSHIP_EMAIL")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "customer.SendResellerRelationshipEmail",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        self.outbox
            .command(name, key.as_ref(), async |tx| {
                let db = &**tx;
                let found =
                    store::relationship_request::get(db, provider_id, customer_id, request_id)
                        .await?
                        .ok_or(RelationshipError::NotFound)?;
                let now = Utc::now();
                let token = self.relationship_token(&found.id);
                found
                    .check_email(now, &request.body, &self.relationship_link(&token))
                    .and_then(|()| personal_link::check_subject(&request.subject, &token))
                    .map_err(RelationshipError::from)?;
                if !store::relationship_request::lock_pending(db, &found.id).await? {
                    return Err(RelationshipError::NO_LONGER_PENDING.into());
                }
                // Counted only for an email that would go out: a retry is
                // answered by the claim of its request id before this, a
                // refused email costs the provider nothing.
                self.relationship_emails.check(provider_id)?;
                let subject = if request.subject.is_empty() {
                    let customer = self.own_customer(db, provider_id, customer_id).await?;
                    let provider_name = self
                        .directory
                        .provider_display_name(db, provider_id)
                        .await?;
                    let draft = self.drafts.draft(&found, &customer, &provider_name, "");
                    draft.map_err(draft_failed)?.subject
                } else {
                    request.subject.clone()
                };
                // The mailer puts the token back when it sends the email;
                // the log, and everyone following it, never sees it.
                let body = capability::seal(&request.body, &token);
                tx.append(convert::email_requested(&found, &subject, body))
                    .await?;
                Ok::<_, Error>(Reply::new(pb::SendResellerRelationshipEmailResponse {
                    reseller_relationship_request: Some(convert::request(&found, now)),
                    to: found.admin_email.clone(),
                    subject,
                }))
            })
            .await
    }

    /// One of the provider's requests.
    pub(super) async fn get_relationship_request(
        &self,
        request: Request<pb::GetResellerRelationshipRequestRequest>,
    ) -> Result<pb::ResellerRelationshipRequest, Error> {
        let caller = Caller::of(&request)?;
        let [provider_id, customer_id, request_id] =
            names::require(&request.get_ref().name, &RELATIONSHIP_REQUEST, "name")?;
        caller.require_own_provider(provider_id)?;
        let found = store::relationship_request::get(
            self.outbox.db(),
            provider_id,
            customer_id,
            request_id,
        )
        .await?
        .ok_or(RelationshipError::NotFound)?;
        Ok(convert::request(&found, Utc::now()))
    }

    /// A customer's requests, newest first.
    pub(super) async fn list_relationship_requests(
        &self,
        request: Request<pb::ListResellerRelationshipRequestsRequest>,
    ) -> Result<pb::ListResellerRelationshipRequestsResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id, customer_id] = names::require(&request.parent, &CUSTOMER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        caller.require_own_provider(provider_id)?;
        let db = self.outbox.db();
        let customer = self.own_customer(db, provider_id, customer_id).await?;
        let (requests, next_page_token) = self
            .pages
            .list::<pb::ListResellerRelationshipRequestsRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                store::relationship_request::page(db, &customer.id, page_size, token).await
            })
            .await?;
        let now = Utc::now();
        Ok(pb::ListResellerRelationshipRequestsResponse {
            reseller_relationship_requests: requests
                .iter()
                .map(|found| convert::request(found, now))
                .collect(),
            next_page_token,
        })
    }

    /// Withdraws a pending request: its link stops working.
    pub(super) async fn revoke_relationship_request(
        &self,
        request: Request<pb::RevokeResellerRelationshipRequestRequest>,
    ) -> Result<pb::ResellerRelationshipRequest, Error> {
        let caller = Caller::of(&request)?;
        let name = &request.get_ref().name;
        let [provider_id, customer_id, request_id] =
            names::require(name, &RELATIONSHIP_REQUEST, "name")?;
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(name, None, async |tx| {
                let found =
                    store::relationship_request::get(&**tx, provider_id, customer_id, request_id)
                        .await?
                        .ok_or(RelationshipError::NotFound)?;
                let now = Utc::now();
                let revoked = store::relationship_request::close(&**tx, &found.revoke(now)?)
                    .await?
                    .ok_or(RelationshipError::NO_LONGER_PENDING)?;
                let resource = convert::request(&revoked, now);
                let event = pb::ResellerRelationshipRequestRevoked {
                    reseller_relationship_request: Some(resource.clone()),
                };
                tx.append(convert::event(&revoked, &event)).await?;
                Ok::<_, Error>(Reply::new(resource))
            })
            .await
    }
}
