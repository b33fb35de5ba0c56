//! `ResellerService` (R2, R3).

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::{Error, Violations, names, validate};
use twotier_proto::partnership as pb;
use twotier_proto::partnership::reseller_service_server::ResellerService;

use super::Api;
use crate::domain::{AccountKind, PartnershipError, ResellerFields, ResellerPatch};
use twotier_platform::update_mask::mask_paths;
use twotier_platform::validate::language_or_default;

const NAME: [&str; 2] = ["resellers", "*"];
const UPDATABLE: [&str; 6] = [
    "company_name",
    "contact_email",
    "country_code",
    "preferred_language",
    "account_kind",
    "mpa_active",
];

fn account_kind(value: i32) -> Result<AccountKind, String> {
    match pb::AccountKind::try_from(value) {
        Ok(pb::AccountKind::Location) => Ok(AccountKind::Location),
        Ok(pb::AccountKind::Global) => Ok(AccountKind::Global),
        _ => Err("must be ACCOUNT_KIND_LOCATION or ACCOUNT_KIND_GLOBAL".into()),
    }
}

fn check_field(violations: &mut Violations, field: &str, reseller: &pb::Reseller) {
    let at = format!("reseller.{field}");
    let outcome = match field {
        "company_name" => validate::line(&reseller.company_name, 1, 200),
        "contact_email" => validate::email(&reseller.contact_email),
        "country_code" => validate::country_code(&reseller.country_code),
        "preferred_language" => {
            validate::language(&language_or_default(&reseller.preferred_language))
        }
        "account_kind" => account_kind(reseller.account_kind).map(|_| ()),
        _ => Ok(()),
    };
    violations.check(at, outcome);
}

#[tonic::async_trait]
impl ResellerService for Api {
    async fn onboard_reseller(
        &self,
        request: Request<pb::OnboardResellerRequest>,
    ) -> Result<Response<pb::Reseller>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::PlatformOperator])?;
        let request = request.into_inner();
        let key = IdempotencyKey::new(
            "partnership.OnboardReseller",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        let reseller = request.reseller.unwrap_or_default();
        let mut violations = Violations::new();
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.check(
            "reseller.partner_id",
            validate::partner_id(&reseller.partner_id),
        );
        violations.check(
            "reseller.tenant_id",
            validate::tenant_id(&reseller.tenant_id),
        );
        for field in UPDATABLE {
            check_field(&mut violations, field, &reseller);
        }
        violations.into_result("INVALID_RESELLER")?;
        let fields = ResellerFields {
            account_kind: account_kind(reseller.account_kind).map_err(|d| {
                Error::invalid_field("INVALID_RESELLER", "reseller.account_kind", d)
            })?,
            preferred_language: language_or_default(&reseller.preferred_language),
            partner_id: reseller.partner_id,
            tenant_id: reseller.tenant_id,
            company_name: reseller.company_name,
            contact_email: reseller.contact_email,
            country_code: reseller.country_code,
            mpa_active: reseller.mpa_active,
        };
        Ok(Response::new(
            self.domain.onboard_reseller(fields, key).await?,
        ))
    }

    async fn get_reseller(
        &self,
        request: Request<pb::GetResellerRequest>,
    ) -> Result<Response<pb::Reseller>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::PlatformOperator, Role::ResellerAdmin])?;
        let [partner_id] = names::require(&request.get_ref().name, &NAME, "name")?;
        let reseller = self.domain.get_reseller(partner_id).await?;
        // A reseller admin sees only its own reseller.
        if !caller.has(Role::PlatformOperator) && reseller.tenant_id != caller.tenant_id {
            return Err(PartnershipError::ResellerNotFound(partner_id.to_owned()).into());
        }
        Ok(Response::new(reseller))
    }

    async fn update_reseller(
        &self,
        request: Request<pb::UpdateResellerRequest>,
    ) -> Result<Response<pb::Reseller>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::PlatformOperator])?;
        let request = request.into_inner();
        let reseller = request.reseller.unwrap_or_default();
        let [partner_id] = names::require(&reseller.name, &NAME, "reseller.name")?;
        let paths = mask_paths(request.update_mask.as_ref(), &UPDATABLE, "reseller.")?;
        let mut violations = Violations::new();
        for path in &paths {
            check_field(&mut violations, path, &reseller);
        }
        violations.into_result("INVALID_RESELLER")?;
        let mut patch = ResellerPatch::default();
        for path in paths {
            match path {
                "company_name" => patch.company_name = Some(reseller.company_name.clone()),
                "contact_email" => patch.contact_email = Some(reseller.contact_email.clone()),
                "country_code" => patch.country_code = Some(reseller.country_code.clone()),
                "preferred_language" => {
                    patch.preferred_language =
                        Some(language_or_default(&reseller.preferred_language))
                }
                "account_kind" => patch.account_kind = account_kind(reseller.account_kind).ok(),
                "mpa_active" => patch.mpa_active = Some(reseller.mpa_active),
                _ => {}
            }
        }
        Ok(Response::new(
            self.domain
                .update_reseller(partner_id, &reseller.etag, patch)
                .await?,
        ))
    }

    async fn verify_partner_id(
        &self,
        request: Request<pb::VerifyPartnerIdRequest>,
    ) -> Result<Response<pb::VerifyPartnerIdResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[
            Role::GlobalAdmin,
            Role::SalesAgent,
            Role::PlatformOperator,
            Role::Service,
        ])?;
        let partner_id = &request.get_ref().partner_id;
        validate::partner_id(partner_id)
            .map_err(|d| Error::invalid_field("PARTNER_ID_MALFORMED", "partner_id", d))?;
        let provider_id = caller.is_provider().then_some(caller.tenant_id.as_str());
        Ok(Response::new(
            self.domain
                .verify_partner_id(partner_id, provider_id)
                .await?,
        ))
    }
}
