//! `CustomerService`: adding, reading and listing customers (R9-R11, R13);
//! the delegated admin, reseller relationship (R22, R23) and agreement RPCs
//! are in their own files.

use chrono::Utc;
use tonic::{Request, Response, Status};
use twotier_outbox::{Event, Reply, audit_as};
use twotier_platform::auth::Caller;
use twotier_platform::idempotency::{self, IdempotencyKey};
use twotier_platform::{Error, Violations, names, paging, validate};
use twotier_proto::customer as pb;
use twotier_proto::customer::customer_service_server::CustomerService;

use super::{AGGREGATE, Api, CUSTOMER, PROVIDER, RESELLER, convert, partner_id_form};
use crate::domain::{AdminCredentials, CustomerError, domain_prefix, initial_domain};
use crate::store;

impl Api {
    async fn create(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<pb::CreateCustomerResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let mut violations = Violations::new();
        let customer = request.customer.clone().unwrap_or_default();
        let new = convert::new_customer(provider_id, customer, &mut violations);
        violations.check("request_id", validate::request_id(&request.request_id));
        if let Some(partner_id) = &new.reseller_partner_id {
            // R24: a malformed PartnerID alone fails as R3 fails it; among
            // other problems it is one more field violation (R10).
            partner_id_form(
                partner_id,
                "customer.indirect_reseller_partner_id",
                &mut violations,
            )?;
        }
        violations.into_result("INVALID_CUSTOMER")?;
        caller.require_own_provider(provider_id)?;
        // A review and a submit of the same input share one fingerprint, so
        // that a review answers a used request id as a submit would (R10).
        let key = IdempotencyKey::new(
            "customer.CreateCustomer",
            &caller.tenant_id,
            &request.request_id,
            &pb::CreateCustomerRequest {
                validate_only: false,
                ..request.clone()
            },
        );
        let db = self.outbox.db();
        // A retry is answered before the partner check below, which may
        // wait and whose answer may have changed since the first attempt.
        // Reviewed again, a submitted request is what a retry would return,
        // marked as a review: it creates nothing more.
        if let Some(replay) =
            idempotency::peek::<pb::CreateCustomerResponse>(db, key.as_ref()).await?
        {
            return Ok(pb::CreateCustomerResponse {
                validate_only: request.validate_only,
                ..replay
            });
        }
        let call = async {
            // Asked outside the unit of work: it may wait for the partner
            // projection to catch up, which must not hold a connection.
            let partner = match new.reseller_partner_id.as_deref() {
                Some(partner_id) => Some(self.chosen_reseller(provider_id, partner_id).await??),
                None => None,
            };
            let created = new.create(&caller.subject, Utc::now(), partner)?;
            if request.validate_only {
                // On submit the unique index decides (also between concurrent
                // creates); the review has nothing to insert, so it looks.
                let prefix = &created.customer.domain_prefix;
                if store::customer::prefix_taken(db, prefix).await? {
                    return Err(CustomerError::DomainPrefixTaken(prefix.clone()).into());
                }
                let mut preview = convert::customer(created.customer);
                preview.name = String::new();
                return Ok::<_, Error>(pb::CreateCustomerResponse {
                    customer: Some(preview),
                    admin_credentials: None,
                    credentials_already_returned: false,
                    validate_only: true,
                });
            }

            let response = self
                .outbox
                .command(&request.parent, key.as_ref(), async |tx| {
                    let customer = store::customer::insert(&**tx, &created.customer).await?;
                    let credentials = AdminCredentials::issue(&customer);
                    let id = customer.id.clone();
                    let provider_id = customer.provider_id.clone();
                    let customer = convert::customer(customer);
                    audit_as(&customer.name);
                    let event = pb::CustomerCreated {
                        customer: Some(customer.clone()),
                        indirect_reseller: created
                            .delegation
                            .as_ref()
                            .map(|(reseller, _)| convert::reseller_contact(reseller)),
                    };
                    tx.append(Event::new(AGGREGATE, &id, &provider_id, &event))
                        .await?;
                    if let Some((_, grant)) = &created.delegation {
                        let grant = store::delegated_admin::insert(&**tx, grant).await?;
                        let event = pb::DelegatedAdminGranted {
                            customer: customer.name.clone(),
                            relationship: Some(convert::relationship(grant)),
                        };
                        tx.append(Event::new(AGGREGATE, &id, &provider_id, &event))
                            .await?;
                    }
                    let answer = pb::CreateCustomerResponse {
                        customer: Some(customer),
                        admin_credentials: Some(convert::credentials(credentials)),
                        credentials_already_returned: false,
                        validate_only: false,
                    };
                    // R11: the credentials go to this answer only; a retry
                    // learns that they were returned before.
                    let for_retries = pb::CreateCustomerResponse {
                        admin_credentials: None,
                        credentials_already_returned: true,
                        ..answer.clone()
                    };
                    Ok::<_, Error>(Reply::with_retry(answer, for_retries))
                })
                .await?;
            if let Some(customer) = &response.customer {
                tracing::info!(customer = %customer.name, domain = %customer.domain, "customer created");
            }
            Ok(response)
        };
        // A review changes nothing and records nothing; a refusal of a
        // submit decided before its transaction is recorded as the
        // command's own (R29).
        if request.validate_only {
            return call.await;
        }
        self.outbox
            .audited(&request.parent, &request.request_id, call)
            .await
    }

    async fn get(&self, request: Request<pb::GetCustomerRequest>) -> Result<pb::Customer, Error> {
        let [provider_id, customer_id] =
            names::require(&request.get_ref().name, &CUSTOMER, "name")?;
        let viewer = self.viewer(&request).await?;
        let found =
            store::customer::find(self.outbox.reads_by_position(), provider_id, customer_id)
                .await?;
        Ok(convert::customer(viewer.visible(found)?))
    }

    async fn list(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<pb::ListCustomersResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        let reseller = request.indirect_reseller_partner_id.as_str();
        if !reseller.is_empty() {
            validate::partner_id(reseller).map_err(|d| {
                Error::invalid_field("INVALID_FILTER", "indirect_reseller_partner_id", d)
            })?;
        }
        caller.require_own_provider(provider_id)?;
        let reseller = Some(reseller).filter(|id| !id.is_empty());
        let (customers, next_page_token) = self
            .pages
            .list::<pb::ListCustomersRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                store::customer::list_of_provider(
                    self.outbox.reads(),
                    provider_id,
                    reseller,
                    page_size,
                    token,
                )
                .await
            })
            .await?;
        Ok(pb::ListCustomersResponse {
            customers: customers.into_iter().map(convert::customer).collect(),
            next_page_token,
        })
    }

    async fn list_of_reseller(
        &self,
        request: Request<pb::ListResellerCustomersRequest>,
    ) -> Result<pb::ListCustomersResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [partner_id] = names::require(&request.parent, &RESELLER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        let own = self.directory.reseller_of_tenant(&caller.tenant_id).await?;
        if own.is_none_or(|reseller| reseller.partner_id != partner_id) {
            return Err(CustomerError::ResellerNotFound.into());
        }
        let (customers, next_page_token) = self
            .pages
            .list::<pb::ListResellerCustomersRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                store::customer::list_of_reseller(self.outbox.reads(), partner_id, page_size, token)
                    .await
            })
            .await?;
        Ok(pb::ListCustomersResponse {
            customers: customers.into_iter().map(convert::customer).collect(),
            next_page_token,
        })
    }

    async fn check_prefix(
        &self,
        request: Request<pb::CheckDomainPrefixRequest>,
    ) -> Result<pb::CheckDomainPrefixResponse, Error> {
        let prefix = domain_prefix(&request.get_ref().domain_prefix)?;
        let taken = store::customer::prefix_taken(self.outbox.reads(), &prefix).await?;
        Ok(pb::CheckDomainPrefixResponse {
            domain: initial_domain(&prefix),
            domain_prefix: prefix,
            available: !taken,
        })
    }
}

#[tonic::async_trait]
impl CustomerService for Api {
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        // A review changes nothing and records nothing.
        if request.get_ref().validate_only {
            return Ok(Response::new(self.create(request).await?));
        }
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().parent.clone();
        Ok(Response::new(
            self.outbox
                .audited(&resource, &request_id, self.create(request))
                .await?,
        ))
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        Ok(Response::new(self.get(request).await?))
    }

    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        Ok(Response::new(self.list(request).await?))
    }

    async fn list_reseller_customers(
        &self,
        request: Request<pb::ListResellerCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        Ok(Response::new(self.list_of_reseller(request).await?))
    }

    async fn check_domain_prefix(
        &self,
        request: Request<pb::CheckDomainPrefixRequest>,
    ) -> Result<Response<pb::CheckDomainPrefixResponse>, Status> {
        Ok(Response::new(self.check_prefix(request).await?))
    }

    async fn list_delegated_admin_relationships(
        &self,
        request: Request<pb::ListDelegatedAdminRelationshipsRequest>,
    ) -> Result<Response<pb::ListDelegatedAdminRelationshipsResponse>, Status> {
        Ok(Response::new(self.relationships(request).await?))
    }

    async fn record_customer_agreement(
        &self,
        request: Request<pb::RecordCustomerAgreementRequest>,
    ) -> Result<Response<pb::CustomerAgreement>, Status> {
        let resource = request.get_ref().parent.clone();
        Ok(Response::new(
            self.outbox
                .audited(&resource, "", self.record_agreement(request))
                .await?,
        ))
    }

    async fn get_customer_agreement(
        &self,
        request: Request<pb::GetCustomerAgreementRequest>,
    ) -> Result<Response<pb::CustomerAgreement>, Status> {
        Ok(Response::new(self.agreement(request).await?))
    }

    async fn request_reseller_relationship(
        &self,
        request: Request<pb::RequestResellerRelationshipRequest>,
    ) -> Result<Response<pb::RequestResellerRelationshipResponse>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().parent.clone();
        Ok(Response::new(
            self.outbox
                .audited(&resource, &request_id, self.request_relationship(request))
                .await?,
        ))
    }

    async fn send_reseller_relationship_email(
        &self,
        request: Request<pb::SendResellerRelationshipEmailRequest>,
    ) -> Result<Response<pb::SendResellerRelationshipEmailResponse>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().reseller_relationship_request.clone();
        Ok(Response::new(
            self.outbox
                .audited(
                    &resource,
                    &request_id,
                    self.send_relationship_email(request),
                )
                .await?,
        ))
    }

    async fn get_reseller_relationship_request(
        &self,
        request: Request<pb::GetResellerRelationshipRequestRequest>,
    ) -> Result<Response<pb::ResellerRelationshipRequest>, Status> {
        Ok(Response::new(self.get_relationship_request(request).await?))
    }

    async fn list_reseller_relationship_requests(
        &self,
        request: Request<pb::ListResellerRelationshipRequestsRequest>,
    ) -> Result<Response<pb::ListResellerRelationshipRequestsResponse>, Status> {
        Ok(Response::new(
            self.list_relationship_requests(request).await?,
        ))
    }

    async fn revoke_reseller_relationship_request(
        &self,
        request: Request<pb::RevokeResellerRelationshipRequestRequest>,
    ) -> Result<Response<pb::ResellerRelationshipRequest>, Status> {
        let resource = request.get_ref().name.clone();
        Ok(Response::new(
            self.outbox
                .audited(&resource, "", self.revoke_relationship_request(request))
                .await?,
        ))
    }

    async fn accept_reseller_relationship(
        &self,
        request: Request<pb::AcceptResellerRelationshipRequest>,
    ) -> Result<Response<pb::DelegatedAdminRelationship>, Status> {
        // Refusals before the token opens a request name none.
        Ok(Response::new(
            self.outbox
                .audited("", "", self.accept_relationship(request))
                .await?,
        ))
    }

    async fn end_delegated_admin_relationship(
        &self,
        request: Request<pb::EndDelegatedAdminRelationshipRequest>,
    ) -> Result<Response<pb::DelegatedAdminRelationship>, Status> {
        let resource = request.get_ref().name.clone();
        Ok(Response::new(
            self.outbox
                .audited(&resource, "", self.end_relationship(request))
                .await?,
        ))
    }
}
