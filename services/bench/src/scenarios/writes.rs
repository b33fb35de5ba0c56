//! Commands: create a customer, check out a cart, accept an invitation.

use std::sync::Arc;
use std::time::Duration;

use twotier_proto::customer as cpb;
use twotier_proto::partnership as ppb;
use twotier_proto::subscription as spb;

use crate::driver::{Measurement, drive};

use super::*;

/// A customer with domain prefix `prefix`, for `reseller` if not empty.
pub fn customer(prefix: &str, reseller: &str) -> cpb::Customer {
    cpb::Customer {
        company_name: format!("Customer {prefix}"),
        domain_prefix: prefix.to_owned(),
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
            email: "pat@customer.example".into(),
            phone: String::new(),
        }),
        indirect_reseller_partner_id: reseller.to_owned(),
        ..Default::default()
    }
}

/// `CreateCustomer`: the customer row, its outbox event, in one transaction.
pub async fn create_customer(
    clients: &Clients,
    workers: usize,
    duration: Duration,
    series: &str,
) -> Measurement {
    let client = clients.customers.clone();
    let series = series.to_owned();
    drive("create customer", workers, duration, None, move |_, n| {
        let mut client = client.clone();
        let request = cpb::CreateCustomerRequest {
            parent: format!("providers/{PROVIDER}"),
            customer: Some(customer(&format!("{series}{n}"), "")),
            validate_only: false,
            request_id: String::new(),
        };
        async move {
            client
                .create_customer(request)
                .await
                .map(|_| ())
                .map_err(status)
        }
    })
    .await
}

/// `CheckoutCart` of one-line carts prepared beforehand.
pub async fn checkout(
    clients: &Clients,
    workers: usize,
    duration: Duration,
    carts: usize,
) -> Result<Measurement, Error> {
    let carts = Arc::new(prepare_carts(clients, workers, carts, "checkoutcustomer").await?);
    let count = carts.len();
    let client = clients.subscriptions.clone();
    Ok(drive(
        "checkout of a one-line cart",
        workers,
        duration,
        Some(count),
        move |_, n| {
            let mut client = client.clone();
            let cart = carts[n].clone();
            async move {
                client
                    .checkout_cart(checkout_request(cart, n))
                    .await
                    .map(|_| ())
                    .map_err(status)
            }
        },
    )
    .await)
}

/// Checking out `cart`, the `n`th checkout of a run.
pub fn checkout_request(cart: String, n: usize) -> spb::CheckoutCartRequest {
    spb::CheckoutCartRequest {
        cart,
        request_id: format!("bench-{n}"),
        etag: String::new(),
    }
}

/// `count` one-line carts, ready to check out, of a new customer with
/// domain prefix `prefix` (agreement recorded).
pub async fn prepare_carts(
    clients: &Clients,
    workers: usize,
    count: usize,
    prefix: &str,
) -> Result<Vec<String>, Error> {
    let mut customers = clients.customers.clone();
    let name = customers
        .create_customer(cpb::CreateCustomerRequest {
            parent: format!("providers/{PROVIDER}"),
            customer: Some(customer(prefix, "")),
            validate_only: false,
            request_id: String::new(),
        })
        .await?
        .into_inner()
        .customer
        .unwrap_or_default()
        .name;
    customers
        .record_customer_agreement(cpb::RecordCustomerAgreementRequest {
            parent: name.clone(),
            customer_agreement: Some(cpb::CustomerAgreement {
                signatory_first_name: "Pat".into(),
                signatory_last_name: "Lee".into(),
                signatory_email: "pat@customer.example".into(),
                date_agreed: "2026-11-01".into(),
                ..Default::default()
            }),
        })
        .await?;
    let prepared = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(count)));
    let client = clients.subscriptions.clone();
    let sink = prepared.clone();
    drive(
        "(setup) prepare carts",
        workers,
        Duration::from_secs(600),
        Some(count),
        move |_, _| {
            let mut client = client.clone();
            let customer = name.clone();
            let sink = sink.clone();
            async move {
                let cart = client
                    .create_cart(spb::CreateCartRequest {
                        parent: format!("providers/{PROVIDER}"),
                        cart: Some(spb::Cart {
                            customer,
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                let line = spb::LineItem {
                    offer: "offers/m365-business-basic".into(),
                    quantity: 3,
                    term: spb::Term::Annual.into(),
                    billing_cycle: spb::BillingCycle::Monthly.into(),
                    ..Default::default()
                };
                client
                    .add_line_item(spb::AddLineItemRequest {
                        cart: cart.name.clone(),
                        line_item: Some(line),
                    })
                    .await
                    .map_err(status)?;
                client
                    .attest_indirect_provider(spb::AttestIndirectProviderRequest {
                        cart: cart.name.clone(),
                        acts_as_indirect_provider: true,
                    })
                    .await
                    .map_err(status)?;
                sink.lock().await.push(cart.name);
                Ok(())
            }
        },
    )
    .await;
    Ok(std::mem::take(&mut *prepared.lock().await))
}

/// `AcceptInvitation` of invitations prepared beforehand.
pub async fn accept(
    clients: &Clients,
    workers: usize,
    duration: Duration,
    invitations: usize,
) -> Measurement {
    let prepared = Arc::new(prepare_invitations(clients, workers, invitations, "accept").await);
    let count = prepared.len();
    let clients = clients.clone();
    drive(
        "accept invitation",
        workers,
        duration,
        Some(count),
        move |_, n| {
            let (tenant, token) = prepared[n].clone();
            let mut client = clients.reseller(&tenant);
            async move {
                client
                    .accept_invitation(ppb::AcceptInvitationRequest { token })
                    .await
                    .map(|_| ())
                    .map_err(status)
            }
        },
    )
    .await
}

/// `count` invitations of resellers of `series` onboarded for them:
/// (reseller tenant, invitation token).
pub async fn prepare_invitations(
    clients: &Clients,
    workers: usize,
    count: usize,
    series: &'static str,
) -> Vec<(String, String)> {
    let prepared = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let sink = prepared.clone();
    let setup = clients.clone();
    drive(
        "(setup) prepare invitations",
        workers,
        Duration::from_secs(600),
        Some(count),
        move |_, n| {
            let setup = setup.clone();
            let sink = sink.clone();
            async move {
                let invitation = invitation_for(&setup, n, series)
                    .await
                    .map_err(|e| e.to_string())?;
                sink.lock().await.push(invitation);
                Ok(())
            }
        },
    )
    .await;
    std::mem::take(&mut *prepared.lock().await)
}
