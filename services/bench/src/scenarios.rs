//! The operations measured, each with the data it needs set up first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_platform::auth::{Bearer, Role};
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;

use super::driver::{Measurement, drive};
use super::system::System;

type Authed = InterceptedService<Channel, Bearer>;
type Error = Box<dyn std::error::Error + Send + Sync>;

pub const PROVIDER: &str = "bench-provider";

/// Clients of the system, as the provider, the operator and resellers.
#[derive(Clone)]
pub struct Clients {
    pub provider_partnerships: PartnershipServiceClient<Authed>,
    pub operator_resellers: ResellerServiceClient<Authed>,
    pub customers: CustomerServiceClient<Authed>,
    pub subscriptions: SubscriptionServiceClient<Authed>,
    partnership_channel: Channel,
    system_tokens: Arc<dyn Fn(&str) -> String + Send + Sync>,
}

impl Clients {
    pub fn new(system: &System) -> Self {
        let provider = Bearer::new(&system.token("bench", PROVIDER, &[Role::GlobalAdmin]));
        let operator = Bearer::new(&system.token("operator", "twotier", &[Role::PlatformOperator]));
        let minter = system.identity.dev_minter.clone();
        Self {
            provider_partnerships: PartnershipServiceClient::with_interceptor(
                System::channel(system.partnership),
                provider.clone(),
            ),
            operator_resellers: ResellerServiceClient::with_interceptor(
                System::channel(system.partnership),
                operator,
            ),
            customers: CustomerServiceClient::with_interceptor(
                System::channel(system.customer),
                provider.clone(),
            ),
            subscriptions: SubscriptionServiceClient::with_interceptor(
                System::channel(system.subscription),
                provider,
            ),
            partnership_channel: System::channel(system.partnership),
            system_tokens: Arc::new(move |tenant: &str| {
                minter
                    .as_ref()
                    .and_then(|m| {
                        m.mint(
                            "rita",
                            tenant,
                            &[Role::ResellerAdmin],
                            None,
                            Duration::from_secs(3600),
                        )
                        .ok()
                    })
                    .unwrap_or_default()
            }),
        }
    }

    /// A partnership client acting as the admin of reseller `tenant`.
    pub fn reseller(&self, tenant: &str) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(
            self.partnership_channel.clone(),
            Bearer::new(&(self.system_tokens)(tenant)),
        )
    }
}

fn status(error: tonic::Status) -> String {
    format!("{:?}: {}", error.code(), error.message())
}

/// Onboards reseller `n` and returns an invitation token for it.
pub async fn invitation_for(
    clients: &Clients,
    n: usize,
    series: &str,
) -> Result<(String, String), Error> {
    let tenant = format!("{series}-{n}");
    let mut resellers = clients.operator_resellers.clone();
    resellers
        .onboard_reseller(ppb::OnboardResellerRequest {
            request_id: String::new(),
            reseller: Some(ppb::Reseller {
                partner_id: format!("{}", partner_base(series) + n),
                tenant_id: tenant.clone(),
                company_name: format!("{series} reseller {n}"),
                contact_email: format!("admin@{tenant}.example"),
                country_code: "DE".into(),
                preferred_language: "en".into(),
                account_kind: ppb::AccountKind::Location.into(),
                mpa_active: true,
                ..Default::default()
            }),
        })
        .await?;
    let mut partnerships = clients.provider_partnerships.clone();
    let invitation = partnerships
        .request_partnership(ppb::RequestPartnershipRequest {
            parent: format!("providers/{PROVIDER}"),
            reseller_email: format!("admin@{tenant}.example"),
            language_code: "en".into(),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let token = invitation
        .invitation_link
        .split("token=")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((tenant, token))
}

fn partner_base(series: &str) -> usize {
    match series {
        "read" => 3_100_000,
        "accept" => 3_200_000,
        _ => 3_300_000,
    }
}

/// A partnership read: `GetPartnership` (auth, tracing, a primary-key
/// lookup).
pub async fn partnership_read(
    clients: &Clients,
    workers: usize,
    duration: Duration,
) -> Result<Measurement, Error> {
    let (tenant, token) = invitation_for(clients, 0, "read").await?;
    let partnership = clients
        .reseller(&tenant)
        .accept_invitation(ppb::AcceptInvitationRequest { token })
        .await?
        .into_inner();
    let client = clients.provider_partnerships.clone();
    Ok(drive(
        "partnership read (GetPartnership)",
        workers,
        duration,
        None,
        move |_, _| {
            let mut client = client.clone();
            let name = partnership.name.clone();
            async move {
                client
                    .get_partnership(ppb::GetPartnershipRequest { name })
                    .await
                    .map(|_| ())
                    .map_err(status)
            }
        },
    )
    .await)
}

/// `ListIndirectResellers`, first page or one starting at 90 % of the list,
/// for a provider with `rows` partnerships seeded directly.
pub async fn list(
    system: &System,
    clients: &Clients,
    rows: usize,
    deep: bool,
    workers: usize,
    duration: Duration,
) -> Result<Measurement, Error> {
    let provider = format!("list-{rows}");
    let token = Bearer::new(&system.token("bench", &provider, &[Role::GlobalAdmin]));
    let client =
        PartnershipServiceClient::with_interceptor(System::channel(system.partnership), token);
    let page_token = if deep {
        let at = rows * 9 / 10;
        let fingerprint = twotier_platform::paging::fingerprint(&[&provider, ""]);
        let inner = twotier_platform::paging::encode_token(
            &(company_key(&provider, at), partner_id(rows, at)),
            &fingerprint,
        );
        // Sealed as the service would have sealed it for this provider.
        twotier_platform::paging::PageTokens::of(&system.identity)
            .list::<ppb::ListIndirectResellersRequest>(&provider)
            .seal(&inner)
    } else {
        String::new()
    };
    let name = format!(
        "list {} page, {} partnerships",
        if deep { "deep" } else { "first" },
        rows
    );
    let _ = clients;
    Ok(drive(&name, workers, duration, None, move |_, _| {
        let mut client = client.clone();
        let request = ppb::ListIndirectResellersRequest {
            parent: format!("providers/{provider}"),
            page_size: 50,
            page_token: page_token.clone(),
            company_name_filter: String::new(),
        };
        async move {
            let page = client
                .list_indirect_resellers(request)
                .await
                .map_err(status)?
                .into_inner();
            if page.indirect_resellers.len() != 50 {
                return Err(format!("short page: {}", page.indirect_resellers.len()));
            }
            Ok(())
        }
    })
    .await)
}

fn company_key(provider: &str, i: usize) -> String {
    format!("{provider} reseller {i:08}")
}

fn partner_id(rows: usize, i: usize) -> String {
    let base: usize = if rows == 1_000 {
        2_000_000_000
    } else {
        1_000_000_000
    };
    format!("{}", base + i)
}

/// Inserts `rows` resellers and active partnerships for provider
/// `list-<rows>` straight into the partnership database.
pub async fn seed_partnerships(db: &DatabaseConnection, rows: usize) -> Result<(), Error> {
    let provider = format!("list-{rows}");
    let base = partner_id(rows, 0);
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let numbers = if postgres {
        format!("SELECT generate_series(0, {}) AS i", rows - 1)
    } else {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) SELECT i FROM n",
            rows - 1
        )
    };
    let pad = if postgres {
        "lpad(i::text, 8, '0')"
    } else {
        "substr('00000000' || i, -8, 8)"
    };
    let id = if postgres {
        format!("({base}::bigint + i)::text")
    } else {
        format!("CAST({base} + i AS TEXT)")
    };
    let now = if postgres {
        "now()"
    } else {
        "'2026-11-25 00:00:00+00:00'"
    };
    let bool_false = if postgres { "false" } else { "0" };
    let bool_true = if postgres { "true" } else { "1" };
    db.execute_unprepared(&format!(
        "INSERT INTO reseller (partner_id, tenant_id, company_name, contact_email, country_code, preferred_language, account_kind, mpa_active, created_at, updated_at, version) \
         SELECT {id}, '{provider}-t-' || {id}, '{provider} reseller ' || {pad}, 'a@b.example', 'DE', 'en', 'location', {bool_true}, {now}, {now}, 1 FROM ({numbers}) AS numbers"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO partnership (id, provider_id, partner_id, state, company_name, company_name_key, invitation_id, accepted_at, accepted_by, state_changed_at, removed_at, removed_by, attested_good_faith, attested_legitimate_purpose, attested_per_agreements, attested_indemnifies_platform, version) \
         SELECT '{provider}-' || {pad}, '{provider}', {id}, 'active', '{provider} reseller ' || {pad}, '{provider} reseller ' || {pad}, 'seeded', {now}, 'bench', {now}, NULL, NULL, {bool_false}, {bool_false}, {bool_false}, {bool_false}, 1 FROM ({numbers}) AS numbers"
    ))
    .await?;
    if postgres {
        db.execute_unprepared("ANALYZE partnership; ANALYZE reseller")
            .await?;
    }
    Ok(())
}

fn customer(prefix: &str, reseller: &str) -> cpb::Customer {
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
    let mut customers = clients.customers.clone();
    let name = customers
        .create_customer(cpb::CreateCustomerRequest {
            parent: format!("providers/{PROVIDER}"),
            customer: Some(customer("checkoutcustomer", "")),
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
    let prepared = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(carts)));
    let client = clients.subscriptions.clone();
    let sink = prepared.clone();
    drive(
        "(setup) prepare carts",
        workers,
        Duration::from_secs(600),
        Some(carts),
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
    let carts: Arc<Vec<String>> = Arc::new(std::mem::take(&mut *prepared.lock().await));
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
                    .checkout_cart(spb::CheckoutCartRequest {
                        cart,
                        request_id: format!("bench-{n}"),
                        etag: String::new(),
                    })
                    .await
                    .map(|_| ())
                    .map_err(status)
            }
        },
    )
    .await)
}

/// `AcceptInvitation` of invitations prepared beforehand.
pub async fn accept(
    clients: &Clients,
    workers: usize,
    duration: Duration,
    invitations: usize,
) -> Measurement {
    let prepared = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let sink = prepared.clone();
    let setup = clients.clone();
    drive(
        "(setup) prepare invitations",
        workers,
        Duration::from_secs(600),
        Some(invitations),
        move |_, n| {
            let setup = setup.clone();
            let sink = sink.clone();
            async move {
                let invitation = invitation_for(&setup, n, "accept")
                    .await
                    .map_err(|e| e.to_string())?;
                sink.lock().await.push(invitation);
                Ok(())
            }
        },
    )
    .await;
    let prepared: Arc<Vec<(String, String)>> =
        Arc::new(std::mem::take(&mut *prepared.lock().await));
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

/// Latency from "partnership accepted" committed (the outbox row's time) to
/// the customer service's projection having it and to the notification
/// being recorded, while `load` runs.
pub async fn event_latency(
    system: &System,
    clients: &Clients,
    samples: usize,
) -> Result<(Measurement, Measurement), Error> {
    use twotier_notification::store::entities::notification;
    use twotier_outbox::entity::outbox_event;
    use twotier_partners::entity::partner_partnership;
    let partnership_db = twotier_platform::db::connect(&system.database_urls[0], 2).await?;
    let customer_db = twotier_platform::db::connect(&system.database_urls[1], 2).await?;
    let notification_db = twotier_platform::db::connect(&system.database_urls[3], 2).await?;
    let mut to_projection = Vec::new();
    let mut to_notification = Vec::new();
    let started = Instant::now();
    for n in 0..samples {
        let (tenant, token) = invitation_for(clients, n, "latency").await?;
        let partnership = clients
            .reseller(&tenant)
            .accept_invitation(ppb::AcceptInvitationRequest { token })
            .await?
            .into_inner();
        let id = partnership
            .name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let event = outbox_event::Entity::find()
            .filter(outbox_event::Column::AggregateId.eq(&id))
            .filter(
                outbox_event::Column::EventType.eq("twotier.partnership.v1.PartnershipAccepted"),
            )
            .one(&partnership_db)
            .await?
            .ok_or("accepted event not found")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let projected = loop {
            let row = partner_partnership::Entity::find_by_id((
                PROVIDER.to_owned(),
                partnership.partner_id.clone(),
            ))
            .one(&customer_db)
            .await?;
            if let Some(row) = row {
                break row;
            }
            if Instant::now() > deadline {
                return Err("projection did not catch up".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let recorded = loop {
            let row = notification::Entity::find()
                .filter(notification::Column::SourceEventId.eq(&event.event_id))
                .one(&notification_db)
                .await?;
            if let Some(row) = row {
                break row;
            }
            if Instant::now() > deadline {
                return Err("notification not recorded".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        to_projection.push(
            (projected.state_changed_at - event.occurred_at)
                .to_std()
                .unwrap_or_default(),
        );
        to_notification.push(
            (recorded.created_at - event.occurred_at)
                .to_std()
                .unwrap_or_default(),
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        Measurement::from_samples(
            "event: accepted -> customer projection",
            to_projection,
            0,
            seconds,
        ),
        Measurement::from_samples(
            "event: accepted -> notification recorded",
            to_notification,
            0,
            seconds,
        ),
    ))
}
