//! `ProviderListingService` (R1).

use chrono::Utc;
use tonic::{Request, Response, Status};
use twotier_outbox::Reply;
use twotier_platform::auth::Caller;
use twotier_platform::change::Change;
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::update_mask::mask_paths;
use twotier_platform::validate::{self, language_or_default};
use twotier_platform::{Error, Violations, names, paging};
use twotier_proto::partnership::provider_listing_service_server::ProviderListingService;
use twotier_proto::partnership::{
    CreateProviderListingRequest, GetProviderListingRequest, ListProviderListingsRequest,
    ListProviderListingsResponse, ProviderListing, UpdateProviderListingRequest,
};

use super::{Api, access, convert, reply};
use crate::domain::{Listing, ListingError, ListingPatch};
use crate::store;

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

fn check_field(violations: &mut Violations, field: &str, listing: &ProviderListing) {
    let at = format!("provider_listing.{field}");
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
    markets.iter().try_for_each(|m| validate::country_code(m))?;
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = markets.iter().find(|m| !seen.insert(m.as_str())) {
        return Err(format!("names the market {twice} more than once"));
    }
    Ok(())
}

fn check_regions(regions: &[String]) -> validate::Check {
    if regions.len() > MAX_REGIONS {
        return Err(format!("must have at most {MAX_REGIONS} regions"));
    }
    regions.iter().try_for_each(|r| validate::line(r, 1, 100))
}

#[tonic::async_trait]
impl ProviderListingService for Api {
    async fn list_provider_listings(
        &self,
        request: Request<ListProviderListingsRequest>,
    ) -> Result<Response<ListProviderListingsResponse>, Status> {
        reply(self.list_listings(request).await)
    }

    async fn get_provider_listing(
        &self,
        request: Request<GetProviderListingRequest>,
    ) -> Result<Response<ProviderListing>, Status> {
        reply(self.get_listing(request.get_ref()).await)
    }

    async fn create_provider_listing(
        &self,
        request: Request<CreateProviderListingRequest>,
    ) -> Result<Response<ProviderListing>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = format!("providerListings/{}", request.get_ref().provider_id);
        reply(
            self.outbox
                .audited(&resource, &request_id, self.create_listing(request))
                .await,
        )
    }

    async fn update_provider_listing(
        &self,
        request: Request<UpdateProviderListingRequest>,
    ) -> Result<Response<ProviderListing>, Status> {
        let resource = request
            .get_ref()
            .provider_listing
            .as_ref()
            .map(|listing| listing.name.clone())
            .unwrap_or_default();
        reply(
            self.outbox
                .audited(&resource, "", self.update_listing(request))
                .await,
        )
    }
}

impl Api {
    async fn list_listings(
        &self,
        request: Request<ListProviderListingsRequest>,
    ) -> Result<ListProviderListingsResponse, Error> {
        let tenant = Caller::of(&request)?.tenant_id.clone();
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        if !request.market.is_empty() {
            validate::country_code(&request.market)
                .map_err(|d| Error::invalid_field("INVALID_FILTER", "market", d))?;
        }
        let (listings, next_page_token) = self
            .pages
            .list::<ListProviderListingsRequest>(&tenant)
            .serve(&request.page_token, async |token| {
                store::listing::page(self.db(), &request.market, page_size, token).await
            })
            .await?;
        Ok(ListProviderListingsResponse {
            provider_listings: listings.iter().map(convert::listing).collect(),
            next_page_token,
        })
    }

    async fn get_listing(
        &self,
        request: &GetProviderListingRequest,
    ) -> Result<ProviderListing, Error> {
        let [provider_id] = names::require(&request.name, &names::PROVIDER_LISTING, "name")?;
        let listing = store::listing::get(self.db(), provider_id)
            .await?
            .ok_or_else(|| ListingError::NotFound(provider_id.to_owned()))?;
        Ok(convert::listing(&listing))
    }

    async fn create_listing(
        &self,
        request: Request<CreateProviderListingRequest>,
    ) -> Result<ProviderListing, Error> {
        let caller = Caller::of(&request)?.clone();
        access::may_change_listings(&caller)?;
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
        let mut fields = request.provider_listing.unwrap_or_default();
        for field in UPDATABLE {
            check_field(&mut violations, field, &fields);
        }
        violations.into_result("INVALID_PROVIDER_LISTING")?;
        fields.preferred_language = language_or_default(&fields.preferred_language);
        let fields = convert::listing_fields(fields);
        let provider_id = request.provider_id;
        self.outbox
            .command(
                &format!("providerListings/{provider_id}"),
                key.as_ref(),
                async |tx| -> Result<_, Error> {
                    let new = Listing::new(&provider_id, fields, Utc::now());
                    let listed = store::listing::insert(&**tx, &new)
                        .await?
                        .ok_or_else(|| ListingError::AlreadyExists(provider_id.clone()))?;
                    let answer = convert::listing(&listed);
                    tx.append(convert::listing_changed(&listed, &answer))
                        .await?;
                    Ok(Reply::new(answer))
                },
            )
            .await
    }

    async fn update_listing(
        &self,
        request: Request<UpdateProviderListingRequest>,
    ) -> Result<ProviderListing, Error> {
        access::may_change_listings(Caller::of(&request)?)?;
        let request = request.into_inner();
        let listing = request.provider_listing.unwrap_or_default();
        let [provider_id] = names::require(
            &listing.name,
            &names::PROVIDER_LISTING,
            "provider_listing.name",
        )?;
        let paths = mask_paths(
            request.update_mask.as_ref(),
            &UPDATABLE,
            "provider_listing.",
        )?;
        let mut violations = Violations::new();
        for path in &paths {
            check_field(&mut violations, path, &listing);
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
        self.outbox
            .command(&listing.name, None, async |tx| -> Result<_, Error> {
                let current = store::listing::get(&**tx, provider_id)
                    .await?
                    .ok_or_else(|| ListingError::NotFound(provider_id.to_owned()))?;
                names::check_etag(&listing.etag, current.version, "the provider listing")?;
                let Change::Changed(changed) = current.patched(patch, Utc::now()) else {
                    // R25: nothing to write, no event, the etag stays.
                    return Ok(Reply::new(convert::listing(&current)));
                };
                // The version guard makes a concurrent update lose cleanly.
                let updated = store::listing::update(&**tx, &changed)
                    .await?
                    .ok_or_else(|| Error::etag_mismatch("the provider listing"))?;
                let answer = convert::listing(&updated);
                tx.append(convert::listing_changed(&updated, &answer))
                    .await?;
                Ok(Reply::new(answer))
            })
            .await
    }
}
