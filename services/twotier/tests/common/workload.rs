//! The scripted workload of the fault-injection tests: onboard, invite,
//! accept, create a customer for the reseller, record its agreement, buy,
//! change the quantity. Every step is retried through outages, safely:
//! creates carry request ids, and non-idempotent steps check the state
//! before trying again.

use std::future::Future;
use std::time::{Duration, Instant};

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};
use twotier_platform::auth::Role;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_testkit::Bearer;

use super::System;

pub const PROVIDER: &str = "contoso";
/// Licences every subscription ends with.
pub const FINAL_QUANTITY: i32 = 20;

type Authed = InterceptedService<Channel, Bearer>;

fn provider() -> Bearer {
    Bearer::new(&twotier_testkit::token(
        "alice",
        PROVIDER,
        &[Role::GlobalAdmin],
    ))
}

/// Whether a failed call may succeed later: the service (or one it needs)
/// was down, or a projection had not caught up yet.
fn retryable(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable
        | Code::Unknown
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted => true,
        Code::FailedPrecondition => twotier_platform::upstream::reason_of(status)
            .is_some_and(|r| r == "RESELLER_NOT_PARTNER"),
        _ => false,
    }
}

/// Retries `call` until it succeeds or fails for good, within `deadline`.
pub async fn retry<T, F, Fut>(what: &str, deadline: Instant, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    loop {
        match call().await {
            Ok(value) => return value,
            Err(status) if retryable(&status) && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("{what} failed: {status:?}"),
        }
    }
}

/// Clients to one replica of each service.
pub struct Clients {
    partnership_channel: Channel,
    resellers: ResellerServiceClient<Authed>,
    partnerships: PartnershipServiceClient<Authed>,
    customers: CustomerServiceClient<Authed>,
    subscriptions: SubscriptionServiceClient<Authed>,
}

impl Clients {
    pub fn new(system: &System, replica: usize) -> Self {
        let operator = Bearer::new(&twotier_testkit::token(
            "operator",
            "twotier",
            &[Role::PlatformOperator],
        ));
        Self {
            partnership_channel: system.channel("partnership", replica),
            resellers: ResellerServiceClient::with_interceptor(
                system.channel("partnership", replica),
                operator,
            ),
            partnerships: PartnershipServiceClient::with_interceptor(
                system.channel("partnership", replica),
                provider(),
            ),
            customers: CustomerServiceClient::with_interceptor(
                system.channel("customer", replica),
                provider(),
            ),
            subscriptions: SubscriptionServiceClient::with_interceptor(
                system.channel("subscription", replica),
                provider(),
            ),
        }
    }
}

/// Runs workload item `i` to completion.
pub async fn run_item(clients: &Clients, i: usize, deadline: Instant) {
    let partner_id = format!("{}", 3_000_000 + i);
    let tenant = format!("reseller-{i}");
    let reseller_admin = Bearer::new(&twotier_testkit::token(
        "rita",
        &tenant,
        &[Role::ResellerAdmin],
    ));

    retry("onboard", deadline, || {
        let mut client = clients.resellers.clone();
        let request = ppb::OnboardResellerRequest {
            request_id: format!("onboard-{i}"),
            reseller: Some(ppb::Reseller {
                partner_id: partner_id.clone(),
                tenant_id: tenant.clone(),
                company_name: format!("Reseller {i}"),
                contact_email: format!("admin@{tenant}.example"),
                country_code: "DE".into(),
                preferred_language: if i.is_multiple_of(2) {
                    "de".into()
                } else {
                    "en".into()
                },
                account_kind: ppb::AccountKind::Location.into(),
                mpa_active: true,
                ..Default::default()
            }),
        };
        async move { client.onboard_reseller(request).await }
    })
    .await;

    let invitation = retry("invite", deadline, || {
        let mut client = clients.partnerships.clone();
        let request = ppb::RequestPartnershipRequest {
            parent: format!("providers/{PROVIDER}"),
            reseller_email: format!("admin@{tenant}.example"),
            language_code: "en".into(),
            request_id: format!("invite-{i}"),
        };
        async move { client.request_partnership(request).await }
    })
    .await
    .into_inner();
    let token = invitation
        .invitation_link
        .split("token=")
        .nth(1)
        .expect("token")
        .to_owned();

    retry("accept", deadline, || {
        let mut client = PartnershipServiceClient::with_interceptor(
            clients.partnership_channel.clone(),
            reseller_admin.clone(),
        );
        let request = ppb::AcceptInvitationRequest {
            token: token.clone(),
        };
        async move { client.accept_invitation(request).await }
    })
    .await;

    let customer = retry("create customer", deadline, || {
        let mut client = clients.customers.clone();
        let request = cpb::CreateCustomerRequest {
            parent: format!("providers/{PROVIDER}"),
            request_id: format!("customer-{i}"),
            validate_only: false,
            customer: Some(cpb::Customer {
                company_name: format!("Customer {i}"),
                domain_prefix: format!("customer{i}"),
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
                    email: format!("pat@customer{i}.example"),
                    phone: String::new(),
                }),
                indirect_reseller_partner_id: partner_id.clone(),
                ..Default::default()
            }),
        };
        async move { client.create_customer(request).await }
    })
    .await
    .into_inner()
    .customer
    .expect("customer")
    .name;

    retry("record agreement", deadline, || {
        let mut client = clients.customers.clone();
        let request = cpb::RecordCustomerAgreementRequest {
            parent: customer.clone(),
            customer_agreement: Some(cpb::CustomerAgreement {
                signatory_first_name: "Pat".into(),
                signatory_last_name: "Lee".into(),
                signatory_email: format!("pat@customer{i}.example"),
                date_agreed: "2026-11-01".into(),
                ..Default::default()
            }),
        };
        async move { client.record_customer_agreement(request).await }
    })
    .await;

    let cart = retry("create cart", deadline, || {
        let mut client = clients.subscriptions.clone();
        let request = spb::CreateCartRequest {
            parent: format!("providers/{PROVIDER}"),
            cart: Some(spb::Cart {
                customer: customer.clone(),
                ..Default::default()
            }),
            request_id: format!("cart-{i}"),
        };
        async move { client.create_cart(request).await }
    })
    .await
    .into_inner()
    .name;

    // Adding a line is not idempotent: look before adding again.
    retry("add line", deadline, || {
        let mut client = clients.subscriptions.clone();
        let cart = cart.clone();
        let partner_id = partner_id.clone();
        async move {
            let current = client
                .get_cart(spb::GetCartRequest { name: cart.clone() })
                .await?
                .into_inner();
            if !current.line_items.is_empty() {
                return Ok(current);
            }
            let line = spb::LineItem {
                offer: "offers/m365-business-premium".into(),
                quantity: 5,
                term: spb::Term::Annual.into(),
                billing_cycle: spb::BillingCycle::Monthly.into(),
                reseller_partner_id: partner_id,
                ..Default::default()
            };
            client
                .add_line_item(spb::AddLineItemRequest {
                    cart,
                    line_item: Some(line),
                })
                .await
                .map(|r| r.into_inner())
        }
    })
    .await;

    retry("attest", deadline, || {
        let mut client = clients.subscriptions.clone();
        let request = spb::AttestIndirectProviderRequest {
            cart: cart.clone(),
            acts_as_indirect_provider: true,
        };
        async move { client.attest_indirect_provider(request).await }
    })
    .await;

    let order = retry("checkout", deadline, || {
        let mut client = clients.subscriptions.clone();
        let request = spb::CheckoutCartRequest {
            cart: cart.clone(),
            request_id: format!("order-{i}"),
            etag: String::new(),
        };
        async move { client.checkout_cart(request).await }
    })
    .await
    .into_inner();
    let subscription = order.lines[0].subscription.clone();

    // A quantity change carries the etag: read, then change unless done.
    retry("change quantity", deadline, || {
        let mut client = clients.subscriptions.clone();
        let name = subscription.clone();
        async move {
            let current = client
                .get_subscription(spb::GetSubscriptionRequest { name: name.clone() })
                .await?
                .into_inner();
            if current.quantity == FINAL_QUANTITY {
                return Ok(current);
            }
            client
                .change_license_quantity(spb::ChangeLicenseQuantityRequest {
                    name,
                    quantity: FINAL_QUANTITY,
                    etag: current.etag,
                })
                .await
                .map(|r| r.into_inner())
        }
    })
    .await;
}
