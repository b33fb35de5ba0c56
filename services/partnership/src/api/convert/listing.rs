//! Provider listings (R1).

use twotier_outbox::Event;
use twotier_platform::names::etag;
use twotier_platform::time::timestamp;
use twotier_proto::partnership as pb;

use crate::domain::{Listing, ListingFields};

pub(in crate::api) fn listing(listing: &Listing) -> pb::ProviderListing {
    pb::ProviderListing {
        name: format!("providerListings/{}", listing.provider_id),
        display_name: listing.display_name.clone(),
        markets: listing.markets.clone(),
        regions: listing.regions.clone(),
        contact_email: listing.contact_email.clone(),
        contact_phone: listing.contact_phone.clone(),
        website_uri: listing.website_uri.clone(),
        preferred_language: listing.preferred_language.clone(),
        create_time: Some(timestamp(listing.created_at)),
        update_time: Some(timestamp(listing.updated_at)),
        etag: etag(listing.version),
    }
}

/// The fields of a validated listing; `preferred_language` is already
/// defaulted.
pub(in crate::api) fn listing_fields(listing: pb::ProviderListing) -> ListingFields {
    ListingFields {
        display_name: listing.display_name,
        markets: listing.markets,
        regions: listing.regions,
        contact_email: listing.contact_email,
        contact_phone: listing.contact_phone,
        website_uri: listing.website_uri,
        preferred_language: listing.preferred_language,
    }
}

/// `ProviderListingChanged` with the listing as it now is.
pub(in crate::api) fn listing_changed(listing: &Listing, reply: &pb::ProviderListing) -> Event {
    Event::new(
        "provider_listing",
        &listing.provider_id,
        &listing.provider_id,
        &pb::ProviderListingChanged {
            provider_listing: Some(reply.clone()),
        },
    )
}
