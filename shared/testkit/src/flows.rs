//! The steps many tests start from, through the services' gRPC APIs: list
//! a provider, onboard a reseller, invite it, accept, remove; create a
//! customer, record its agreement; fill a cart and buy.

use tonic::transport::Channel;
use twotier_platform::auth::Bearer;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::partnership as pb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;

use crate::{operator, provider_admin, reseller_admin};

/// Lists `provider` as `display_name` (market `DE`), reachable at
/// `partners@<provider>.example` and preferring `language`.
pub async fn list_provider(
    partnership: Channel,
    provider: &str,
    display_name: &str,
    language: &str,
) -> pb::ProviderListing {
    ProviderListingServiceClient::with_interceptor(partnership, Bearer::new(&operator()))
        .create_provider_listing(pb::CreateProviderListingRequest {
            provider_id: provider.into(),
            provider_listing: Some(pb::ProviderListing {
                display_name: display_name.into(),
                markets: vec!["DE".into()],
                contact_email: format!("partners@{provider}.example"),
                preferred_language: language.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("listing")
        .into_inner()
}

/// Onboards a location reseller reachable at `admin@<tenant>.example`.
pub async fn onboard(
    partnership: Channel,
    partner_id: &str,
    tenant: &str,
    company: &str,
    language: &str,
    mpa_active: bool,
) -> pb::Reseller {
    onboard_kind(
        partnership,
        partner_id,
        tenant,
        company,
        language,
        pb::AccountKind::Location,
        mpa_active,
    )
    .await
}

/// Onboards a reseller with an account of `kind`, reachable at
/// `admin@<tenant>.example`.
pub async fn onboard_kind(
    partnership: Channel,
    partner_id: &str,
    tenant: &str,
    company: &str,
    language: &str,
    kind: pb::AccountKind,
    mpa_active: bool,
) -> pb::Reseller {
    ResellerServiceClient::with_interceptor(partnership, Bearer::new(&operator()))
        .onboard_reseller(pb::OnboardResellerRequest {
            reseller: Some(pb::Reseller {
                partner_id: partner_id.into(),
                tenant_id: tenant.into(),
                company_name: company.into(),
                contact_email: format!("admin@{tenant}.example"),
                country_code: "DE".into(),
                preferred_language: language.into(),
                account_kind: kind.into(),
                mpa_active,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("onboard reseller")
        .into_inner()
}

/// The operator changes the reseller `partner_id`'s field `path` (an
/// `UpdateReseller` mask path) as `change` sets it on the reseller read.
pub async fn update_reseller(
    partnership: Channel,
    partner_id: &str,
    path: &str,
    change: impl FnOnce(&mut pb::Reseller),
) -> pb::Reseller {
    let mut resellers =
        ResellerServiceClient::with_interceptor(partnership, Bearer::new(&operator()));
    let mut reseller = resellers
        .get_reseller(pb::GetResellerRequest {
            name: format!("resellers/{partner_id}"),
        })
        .await
        .expect("reseller")
        .into_inner();
    change(&mut reseller);
    resellers
        .update_reseller(pb::UpdateResellerRequest {
            reseller: Some(reseller),
            update_mask: Some(prost_types::FieldMask {
                paths: vec![path.into()],
            }),
        })
        .await
        .expect("reseller changed")
        .into_inner()
}

/// `provider` invites `admin@<tenant>.example`.
pub async fn invite(
    partnership: Channel,
    provider: &str,
    tenant: &str,
) -> pb::RequestPartnershipResponse {
    PartnershipServiceClient::with_interceptor(partnership, Bearer::new(&provider_admin(provider)))
        .request_partnership(pb::RequestPartnershipRequest {
            parent: format!("providers/{provider}"),
            reseller_email: format!("admin@{tenant}.example"),
            language_code: "en".into(),
            request_id: String::new(),
        })
        .await
        .expect("request partnership")
        .into_inner()
}

/// The token of an invitation link.
pub fn token_of(link: &str) -> String {
    link.split("token=")
        .nth(1)
        .expect("link has a token")
        .to_owned()
}

/// The admin of `tenant` accepts `invitation`.
pub async fn accept(
    partnership: Channel,
    tenant: &str,
    invitation: &pb::RequestPartnershipResponse,
) -> pb::Partnership {
    PartnershipServiceClient::with_interceptor(partnership, Bearer::new(&reseller_admin(tenant)))
        .accept_invitation(pb::AcceptInvitationRequest {
            token: token_of(&invitation.invitation_link),
        })
        .await
        .expect("accept invitation")
        .into_inner()
}

/// Makes the reseller of `tenant` an active partner of `provider`.
pub async fn partner(partnership: Channel, provider: &str, tenant: &str) -> pb::Partnership {
    let invitation = invite(partnership.clone(), provider, tenant).await;
    accept(partnership, tenant, &invitation).await
}

/// `provider` removes its partnership with `partner_id`, attested.
pub async fn remove_partnership(
    partnership: Channel,
    provider: &str,
    partner_id: &str,
) -> pb::Partnership {
    PartnershipServiceClient::with_interceptor(partnership, Bearer::new(&provider_admin(provider)))
        .remove_partnership(pb::RemovePartnershipRequest {
            name: format!("providers/{provider}/indirectResellers/{partner_id}"),
            confirm: true,
            attestation: Some(pb::RemovalAttestation {
                good_faith: true,
                legitimate_business_purpose: true,
                per_agreements: true,
                indemnifies_platform: true,
            }),
            etag: String::new(),
        })
        .await
        .expect("remove partnership")
        .into_inner()
}

/// `provider`'s customer with domain prefix `prefix` (company `<prefix>
/// Ltd`, contact `pat@<prefix>.example`), delegated to `reseller` unless it
/// is empty, with the customer agreement recorded when `agreement`.
pub async fn customer(
    customer_service: Channel,
    provider: &str,
    prefix: &str,
    reseller: &str,
    agreement: bool,
) -> String {
    let mut client = CustomerServiceClient::with_interceptor(
        customer_service,
        Bearer::new(&provider_admin(provider)),
    );
    let created = client
        .create_customer(cpb::CreateCustomerRequest {
            parent: format!("providers/{provider}"),
            customer: Some(cpb::Customer {
                company_name: format!("{prefix} Ltd"),
                domain_prefix: prefix.into(),
                address: Some(cpb::Address {
                    address_line1: "1 Main St".into(),
                    city: "Berlin".into(),
                    postal_code: "10115".into(),
                    country_code: "DE".into(),
                    ..Default::default()
                }),
                primary_contact: Some(cpb::Contact {
                    first_name: "Pat".into(),
                    last_name: "Lee".into(),
                    email: format!("pat@{prefix}.example"),
                    phone: String::new(),
                }),
                indirect_reseller_partner_id: reseller.into(),
                ..Default::default()
            }),
            validate_only: false,
            request_id: String::new(),
        })
        .await
        .expect("create customer")
        .into_inner();
    let name = created.customer.expect("customer").name;
    if agreement {
        client
            .record_customer_agreement(cpb::RecordCustomerAgreementRequest {
                parent: name.clone(),
                customer_agreement: Some(cpb::CustomerAgreement {
                    signatory_first_name: "Pat".into(),
                    signatory_last_name: "Lee".into(),
                    signatory_email: format!("pat@{prefix}.example"),
                    date_agreed: "2026-11-01".into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("record agreement");
    }
    name
}

/// A line item: `quantity` licences of `offer` (an offer id), annual,
/// billed monthly, with `reseller` of record unless it is empty.
pub fn line(offer: &str, quantity: i32, reseller: &str) -> spb::LineItem {
    spb::LineItem {
        line_item_id: String::new(),
        offer: format!("offers/{offer}"),
        quantity,
        term: spb::Term::Annual.into(),
        billing_cycle: spb::BillingCycle::Monthly.into(),
        reseller_partner_id: reseller.into(),
    }
}

/// An empty cart of `provider` for `customer`, not attested.
pub async fn empty_cart(
    subscription_service: Channel,
    provider: &str,
    customer: &str,
) -> spb::Cart {
    SubscriptionServiceClient::with_interceptor(
        subscription_service,
        Bearer::new(&provider_admin(provider)),
    )
    .create_cart(spb::CreateCartRequest {
        parent: format!("providers/{provider}"),
        cart: Some(spb::Cart {
            customer: customer.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .expect("create cart")
    .into_inner()
}

/// A cart of `provider` for `customer` holding `lines`, attested.
pub async fn cart(
    subscription_service: Channel,
    provider: &str,
    customer: &str,
    lines: Vec<spb::LineItem>,
) -> spb::Cart {
    let cart = empty_cart(subscription_service.clone(), provider, customer).await;
    let mut client = SubscriptionServiceClient::with_interceptor(
        subscription_service,
        Bearer::new(&provider_admin(provider)),
    );
    for line in lines {
        client
            .add_line_item(spb::AddLineItemRequest {
                cart: cart.name.clone(),
                line_item: Some(line),
            })
            .await
            .expect("add line");
    }
    client
        .attest_indirect_provider(spb::AttestIndirectProviderRequest {
            cart: cart.name.clone(),
            acts_as_indirect_provider: true,
        })
        .await
        .expect("attest")
        .into_inner()
}

/// `provider` buys `lines` for `customer`.
pub async fn buy(
    subscription_service: Channel,
    provider: &str,
    customer: &str,
    lines: Vec<spb::LineItem>,
) -> spb::Order {
    let cart = cart(subscription_service.clone(), provider, customer, lines).await;
    SubscriptionServiceClient::with_interceptor(
        subscription_service,
        Bearer::new(&provider_admin(provider)),
    )
    .checkout_cart(spb::CheckoutCartRequest {
        cart: cart.name,
        request_id: String::new(),
        etag: String::new(),
    })
    .await
    .expect("checkout")
    .into_inner()
}
