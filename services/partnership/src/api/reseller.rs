//! `ResellerService` (R2, R3).

use chrono::Utc;
use tonic::{Request, Response, Status};
use twotier_outbox::Reply;
use twotier_partners::eligibility;
use twotier_platform::auth::{Caller, Role};
use twotier_platform::change::Change;
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::update_mask::mask_paths;
use twotier_platform::validate::{self, language_or_default};
use twotier_platform::{Error, Violations, names};
use twotier_proto::partnership as pb;
use twotier_proto::partnership::reseller_service_server::ResellerService;

use super::{Api, convert, reply};
use crate::domain::{Ineligible, Reseller, ResellerError, ResellerFields, ResellerPatch};
use crate::store;

const NAME: [&str; 2] = ["resellers", "*"];
const UPDATABLE: [&str; 6] = [
    "company_name",
    "contact_email",
    "country_code",
    "preferred_language",
    "account_kind",
    "mpa_active",
];

fn check_field(violations: &mut Violations, field: &str, reseller: &pb::Reseller) {
    let at = format!("reseller.{field}");
    let outcome = match field {
        "company_name" => validate::line(&reseller.company_name, 1, 200),
        "contact_email" => validate::email(&reseller.contact_email),
        "country_code" => validate::country_code(&reseller.country_code),
        "preferred_language" => {
            validate::language(&language_or_default(&reseller.preferred_language))
        }
        "account_kind" => convert::account_kind(reseller.account_kind).map(|_| ()),
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
        let request_id = request.get_ref().request_id.clone();
        let resource = format!(
            "resellers/{}",
            request
                .get_ref()
                .reseller
                .as_ref()
                .map(|reseller| reseller.partner_id.as_str())
                .unwrap_or_default()
        );
        reply(
            self.outbox
                .audited(&resource, &request_id, self.onboard_reseller(request))
                .await,
        )
    }

    async fn get_reseller(
        &self,
        request: Request<pb::GetResellerRequest>,
    ) -> Result<Response<pb::Reseller>, Status> {
        reply(self.get_reseller(request).await)
    }

    async fn update_reseller(
        &self,
        request: Request<pb::UpdateResellerRequest>,
    ) -> Result<Response<pb::Reseller>, Status> {
        let resource = request
            .get_ref()
            .reseller
            .as_ref()
            .map(|reseller| reseller.name.clone())
            .unwrap_or_default();
        reply(
            self.outbox
                .audited(&resource, "", self.update_reseller(request.into_inner()))
                .await,
        )
    }

    async fn verify_partner_id(
        &self,
        request: Request<pb::VerifyPartnerIdRequest>,
    ) -> Result<Response<pb::VerifyPartnerIdResponse>, Status> {
        reply(self.verify_partner_id(request).await)
    }
}

impl Api {
    async fn onboard_reseller(
        &self,
        request: Request<pb::OnboardResellerRequest>,
    ) -> Result<pb::Reseller, Error> {
        let tenant = Caller::of(&request)?.tenant_id.clone();
        let request = request.into_inner();
        let key = IdempotencyKey::new(
            "partnership.OnboardReseller",
            &tenant,
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
            account_kind: convert::account_kind(reseller.account_kind).map_err(|d| {
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
        let onboarded = self
            .outbox
            .command(
                &format!("resellers/{}", fields.partner_id),
                key.as_ref(),
                async |tx| -> Result<_, Error> {
                    let db = &**tx;
                    if store::reseller::get(db, &fields.partner_id)
                        .await?
                        .is_some()
                    {
                        return Err(ResellerError::AlreadyOnboarded(fields.partner_id).into());
                    }
                    if store::reseller::of_tenant(db, &fields.tenant_id)
                        .await?
                        .is_some()
                    {
                        return Err(ResellerError::TenantTaken(fields.tenant_id).into());
                    }
                    let new = Reseller::onboard(fields, Utc::now());
                    let onboarded = store::reseller::insert(db, &new).await?.ok_or_else(|| {
                        ResellerError::AlreadyOnboarded("this PartnerID or tenant".into())
                    })?;
                    let answer = convert::reseller(&onboarded);
                    tx.append(convert::reseller_onboarded(&onboarded, &answer))
                        .await?;
                    Ok(Reply::new(answer))
                },
            )
            .await?;
        tracing::info!(partner_id = %onboarded.partner_id, "reseller onboarded");
        Ok(onboarded)
    }

    async fn get_reseller(
        &self,
        request: Request<pb::GetResellerRequest>,
    ) -> Result<pb::Reseller, Error> {
        let caller = Caller::of(&request)?;
        let [partner_id] = names::require(&request.get_ref().name, &NAME, "name")?;
        let not_found = || ResellerError::NotFound(partner_id.to_owned());
        let reseller = store::reseller::get(self.reads(), partner_id)
            .await?
            .ok_or_else(not_found)?;
        // A reseller admin sees only its own reseller.
        if !caller.has(Role::PlatformOperator) && reseller.tenant_id != caller.tenant_id {
            return Err(not_found().into());
        }
        Ok(convert::reseller(&reseller))
    }

    async fn update_reseller(
        &self,
        request: pb::UpdateResellerRequest,
    ) -> Result<pb::Reseller, Error> {
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
                "account_kind" => {
                    patch.account_kind = convert::account_kind(reseller.account_kind).ok()
                }
                "mpa_active" => patch.mpa_active = Some(reseller.mpa_active),
                _ => {}
            }
        }
        self.outbox
            .command(&reseller.name, None, async |tx| -> Result<_, Error> {
                let db = &**tx;
                // Locked before renaming its partnerships (see `get_for_update`).
                let current = store::reseller::get_for_update(db, partner_id)
                    .await?
                    .ok_or_else(|| ResellerError::NotFound(partner_id.to_owned()))?;
                names::check_etag(&reseller.etag, current.version, "the reseller")?;
                let renamed = patch.company_name.clone();
                let Change::Changed(changed) = current.patched(patch, Utc::now()) else {
                    // R25: nothing to write, no event, the etag stays.
                    return Ok(Reply::new(convert::reseller(&current)));
                };
                if let Some(name) = renamed.filter(|name| *name != current.company_name) {
                    store::partnership::rename_reseller(db, partner_id, &name).await?;
                }
                let updated = store::reseller::update(db, &changed)
                    .await?
                    .ok_or_else(|| Error::etag_mismatch("the reseller"))?;
                let answer = convert::reseller(&updated);
                tx.append(convert::reseller_updated(&updated, &answer))
                    .await?;
                Ok(Reply::new(answer))
            })
            .await
    }

    /// R3: whether `partner_id` may be chosen; for a provider caller, also
    /// whether it is the provider's partner.
    async fn verify_partner_id(
        &self,
        request: Request<pb::VerifyPartnerIdRequest>,
    ) -> Result<pb::VerifyPartnerIdResponse, Error> {
        let caller = Caller::of(&request)?;
        let partner_id = &request.get_ref().partner_id;
        eligibility::well_formed(partner_id)?;
        let reseller = store::reseller::get(self.reads(), partner_id)
            .await?
            .ok_or_else(|| Ineligible::Unknown(partner_id.clone()))?;
        reseller.eligibility()?;
        let partnered_with_caller = caller.is_provider()
            && store::partnership::active(self.reads(), &caller.tenant_id, partner_id)
                .await?
                .is_some();
        Ok(convert::verified(&reseller, partnered_with_caller))
    }
}
