//! `CustomerService` (R9-R13).

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::{Error, Violations, names, paging, validate};
use twotier_proto::customer as pb;
use twotier_proto::customer::customer_service_server::CustomerService;

use super::Api;
use super::validation::{check_agreement, check_customer, domain_prefix};
use crate::domain::{AgreementFields, CustomerError, NewCustomer, Viewer};

const PROVIDER: [&str; 2] = ["providers", "*"];
const CUSTOMER: [&str; 4] = ["providers", "*", "customers", "*"];
const AGREEMENT: [&str; 5] = ["providers", "*", "customers", "*", "customerAgreement"];
const RESELLER: [&str; 2] = ["resellers", "*"];

/// The caller, which must be a provider user.
fn provider<T>(request: &Request<T>) -> Result<Caller, Error> {
    let caller = Caller::of(request)?;
    caller.require_provider()?;
    Ok(caller.clone())
}

impl Api {
    /// Who the caller is as a viewer of customers: a provider, or a reseller
    /// admin whose tenant belongs to an onboarded reseller.
    async fn viewer<T>(&self, request: &Request<T>) -> Result<Viewer, Error> {
        let caller = Caller::of(request)?;
        caller.require_any(&[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin])?;
        if caller.is_provider() {
            return Ok(Viewer::Provider(caller.tenant_id.clone()));
        }
        let reseller = self
            .domain
            .directory()
            .reseller_of_tenant(&caller.tenant_id)
            .await?;
        match reseller {
            Some(reseller) => Ok(Viewer::Reseller(reseller.partner_id)),
            None => Err(CustomerError::CustomerNotFound.into()),
        }
    }
}

#[tonic::async_trait]
impl CustomerService for Api {
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let customer = request.customer.clone().unwrap_or_default();
        let mut violations = Violations::new();
        check_customer(&mut violations, &customer);
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.into_result("INVALID_CUSTOMER")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "customer.CreateCustomer",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        let new = NewCustomer {
            provider_id: provider_id.to_owned(),
            domain_prefix: customer.domain_prefix.to_lowercase(),
            language_code: validate::language_or_default(&customer.language_code),
            reseller_partner_id: Some(customer.indirect_reseller_partner_id)
                .filter(|id| !id.is_empty()),
            company_name: customer.company_name,
            address: customer.address.unwrap_or_default(),
            contact: customer.primary_contact.unwrap_or_default(),
        };
        Ok(Response::new(
            self.domain
                .create_customer(&caller, new, request.validate_only, key)
                .await?,
        ))
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let viewer = self.viewer(&request).await?;
        let [provider_id, customer_id] =
            names::require(&request.get_ref().name, &CUSTOMER, "name")?;
        Ok(Response::new(
            self.domain
                .get_customer(&viewer, provider_id, customer_id)
                .await?,
        ))
    }

    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let caller = provider(&request)?;
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
                self.domain
                    .list_customers(provider_id, reseller, page_size, token)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListCustomersResponse {
            customers,
            next_page_token,
        }))
    }

    async fn list_reseller_customers(
        &self,
        request: Request<pb::ListResellerCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::ResellerAdmin])?;
        let request = request.into_inner();
        let [partner_id] = names::require(&request.parent, &RESELLER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        let own = self
            .domain
            .directory()
            .reseller_of_tenant(&caller.tenant_id)
            .await
            .map_err(Error::from)?;
        if own.is_none_or(|reseller| reseller.partner_id != partner_id) {
            return Err(CustomerError::ResellerNotFound.into());
        }
        let (customers, next_page_token) = self
            .pages
            .list::<pb::ListResellerCustomersRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                self.domain
                    .list_reseller_customers(partner_id, page_size, token)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListCustomersResponse {
            customers,
            next_page_token,
        }))
    }

    async fn check_domain_prefix(
        &self,
        request: Request<pb::CheckDomainPrefixRequest>,
    ) -> Result<Response<pb::CheckDomainPrefixResponse>, Status> {
        provider(&request)?;
        let prefix = request.get_ref().domain_prefix.to_lowercase();
        domain_prefix(&prefix)
            .map_err(|d| Error::invalid_field("INVALID_DOMAIN_PREFIX", "domain_prefix", d))?;
        let available = self.domain.domain_prefix_available(&prefix).await?;
        Ok(Response::new(pb::CheckDomainPrefixResponse {
            domain: format!("{prefix}.onmicrosoft.com"),
            domain_prefix: prefix,
            available,
        }))
    }

    async fn list_delegated_admin_relationships(
        &self,
        request: Request<pb::ListDelegatedAdminRelationshipsRequest>,
    ) -> Result<Response<pb::ListDelegatedAdminRelationshipsResponse>, Status> {
        let viewer = self.viewer(&request).await?;
        let [provider_id, customer_id] =
            names::require(&request.get_ref().parent, &CUSTOMER, "parent")?;
        let delegated_admin_relationships = self
            .domain
            .list_relationships(&viewer, provider_id, customer_id)
            .await?;
        Ok(Response::new(pb::ListDelegatedAdminRelationshipsResponse {
            delegated_admin_relationships,
        }))
    }

    async fn record_customer_agreement(
        &self,
        request: Request<pb::RecordCustomerAgreementRequest>,
    ) -> Result<Response<pb::CustomerAgreement>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, customer_id] = names::require(&request.parent, &CUSTOMER, "parent")?;
        let agreement = request.customer_agreement.unwrap_or_default();
        let mut violations = Violations::new();
        check_agreement(&mut violations, &agreement);
        violations.into_result("INVALID_CUSTOMER_AGREEMENT")?;
        caller.require_own_provider(provider_id)?;
        let fields = AgreementFields {
            first_name: agreement.signatory_first_name,
            last_name: agreement.signatory_last_name,
            email: agreement.signatory_email,
            phone: agreement.signatory_phone,
            date_agreed: agreement.date_agreed,
        };
        Ok(Response::new(
            self.domain
                .record_agreement(&caller, provider_id, customer_id, fields)
                .await?,
        ))
    }

    async fn get_customer_agreement(
        &self,
        request: Request<pb::GetCustomerAgreementRequest>,
    ) -> Result<Response<pb::CustomerAgreement>, Status> {
        let viewer = self.viewer(&request).await?;
        let [provider_id, customer_id] =
            names::require(&request.get_ref().name, &AGREEMENT, "name")?;
        Ok(Response::new(
            self.domain
                .get_agreement(&viewer, provider_id, customer_id)
                .await?,
        ))
    }
}
