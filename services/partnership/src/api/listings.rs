//! `ProviderListingService` (R1).

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::{Error, Violations, names, paging, validate};
use twotier_proto::partnership::provider_listing_service_server::ProviderListingService;
use twotier_proto::partnership::{
    CreateProviderListingRequest, GetProviderListingRequest, ListProviderListingsRequest,
    ListProviderListingsResponse, ProviderListing, UpdateProviderListingRequest,
};

use super::Api;
use crate::domain::{ListingFields, ListingPatch, PartnershipError};
use twotier_platform::update_mask::mask_paths;
use twotier_platform::validate::language_or_default;

const NAME: [&str; 2] = ["providerListings", "*"];
const UPDATABLE: [&str; 7] = [
    "display_name",
    "markets",
    "regions",
    "contact_email",
    "contact_phone",
    "website_uri",
    "preferred_language",
];

/// Most markets a listing may serve (there are 249 ISO 3166-1 codes).
const MAX_MARKETS: usize = 250;
/// Most regions a listing may name.
const MAX_REGIONS: usize = 50;

/// Only the platform operator changes the list; a provider is told to ask
/// its representative (R1).
fn authorize_change(caller: &Caller) -> Result<(), Error> {
    if caller.has(Role::PlatformOperator) {
        return Ok(());
    }
    if caller.is_provider() {
        return Err(PartnershipError::ListingChangeRequiresRepresentative.into());
    }
    caller.require_any(&[Role::PlatformOperator])
}

fn check_field(violations: &mut Violations, field: &str, path: &str, listing: &ProviderListing) {
    let at = format!("provider_listing.{path}");
    let outcome = match field {
        "display_name" => validate::line(&listing.display_name, 1, 200),
        "markets" => check_markets(&listing.markets),
        "regions" => check_regions(&listing.regions),
        "contact_email" => validate::email(&listing.contact_email),
        "contact_phone" => validate::line(&listing.contact_phone, 0, 64),
        "website_uri" => validate::optional_web_uri(&listing.website_uri),
        "preferred_language" => {
            validate::language(&language_or_default(&listing.preferred_language))
        }
        _ => Ok(()),
    };
    violations.check(at, outcome);
}

fn check_markets(markets: &[String]) -> validate::Check {
    if markets.is_empty() {
        return Err("needs at least one market".into());
    }
    if markets.len() > MAX_MARKETS {
        return Err(format!("must have at most {MAX_MARKETS} markets"));
    }
    markets.iter().try_for_each(|m| validate::country_code(m))
}

fn check_regions(regions: &[String]) -> validate::Check {
    if regions.len() > MAX_REGIONS {
        return Err(format!("must have at most {MAX_REGIONS} regions"));
    }
    regions.iter().try_for_each(|r| validate::line(r, 1, 100))
}

fn fields_of(listing: ProviderListing) -> ListingFields {
    ListingFields {
        preferred_language: language_or_default(&listing.preferred_language),
        display_name: listing.display_name,
        markets: listing.markets,
        regions: listing.regions,
        contact_email: listing.contact_email,
        contact_phone: listing.contact_phone,
        website_uri: listing.website_uri,
    }
}

#[tonic::async_trait]
impl ProviderListingService for Api {
    async fn list_provider_listings(
        &self,
        request: Request<ListProviderListingsRequest>,
    ) -> Result<Response<ListProviderListingsResponse>, Status> {
        let tenant = Caller::of(&request)?.tenant_id.clone();
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        if !request.market.is_empty() {
            validate::country_code(&request.market)
                .map_err(|d| Error::invalid_field("INVALID_FILTER", "market", d))?;
        }
        let (provider_listings, next_page_token) = self
            .pages
            .list::<ListProviderListingsRequest>(&tenant)
            .serve(&request.page_token, async |token| {
                self.domain
                    .list_listings(&request.market, page_size, token)
                    .await
            })
            .await?;
        Ok(Response::new(ListProviderListingsResponse {
            provider_listings,
            next_page_token,
        }))
    }

    async fn get_provider_listing(
        &self,
        request: Request<GetProviderListingRequest>,
    ) -> Result<Response<ProviderListing>, Status> {
        Caller::of(&request)?;
        let [provider_id] = names::require(&request.get_ref().name, &NAME, "name")?;
        Ok(Response::new(self.domain.get_listing(provider_id).await?))
    }

    async fn create_provider_listing(
        &self,
        request: Request<CreateProviderListingRequest>,
    ) -> Result<Response<ProviderListing>, Status> {
        let caller = Caller::of(&request)?.clone();
        authorize_change(&caller)?;
        let request = request.into_inner();
        let key = IdempotencyKey::new(
            "partnership.CreateProviderListing",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        let mut violations = Violations::new();
        violations.check("provider_id", validate::tenant_id(&request.provider_id));
        violations.check("request_id", validate::request_id(&request.request_id));
        let listing = request.provider_listing.unwrap_or_default();
        for field in UPDATABLE {
            check_field(&mut violations, field, field, &listing);
        }
        violations.into_result("INVALID_PROVIDER_LISTING")?;
        let created = self
            .domain
            .create_listing(&request.provider_id, fields_of(listing), key)
            .await?;
        Ok(Response::new(created))
    }

    async fn update_provider_listing(
        &self,
        request: Request<UpdateProviderListingRequest>,
    ) -> Result<Response<ProviderListing>, Status> {
        let caller = Caller::of(&request)?.clone();
        authorize_change(&caller)?;
        let request = request.into_inner();
        let listing = request.provider_listing.unwrap_or_default();
        let [provider_id] = names::require(&listing.name, &NAME, "provider_listing.name")?;
        let paths = mask_paths(
            request.update_mask.as_ref(),
            &UPDATABLE,
            "provider_listing.",
        )?;
        let mut violations = Violations::new();
        for path in &paths {
            check_field(&mut violations, path, path, &listing);
        }
        violations.into_result("INVALID_PROVIDER_LISTING")?;
        let mut patch = ListingPatch::default();
        for path in paths {
            match path {
                "display_name" => patch.display_name = Some(listing.display_name.clone()),
                "markets" => patch.markets = Some(listing.markets.clone()),
                "regions" => patch.regions = Some(listing.regions.clone()),
                "contact_email" => patch.contact_email = Some(listing.contact_email.clone()),
                "contact_phone" => patch.contact_phone = Some(listing.contact_phone.clone()),
                "website_uri" => patch.website_uri = Some(listing.website_uri.clone()),
                "preferred_language" => {
                    patch.preferred_language =
                        Some(language_or_default(&listing.preferred_language))
                }
                _ => {}
            }
        }
        let updated = self
            .domain
            .update_listing(provider_id, &listing.etag, patch)
            .await?;
        Ok(Response::new(updated))
    }
}
