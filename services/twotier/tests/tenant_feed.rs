//! R30, the tenant event feed, through gRPC: two providers produce events
//! on every log; each provider's own backend (role `Integration`) follows
//! the partnership, customer, subscription and notification logs and
//! receives only its tenant's events, from the start and from a middle
//! position, with contact data, actors, email text and trace context left
//! out. A provider admin without `Integration` is refused, and a filter
//! for event types the other provider produced yields only the caller's
//! own. The notification log reports failed and sent emails. A feed asking
//! for pruned positions is told the oldest retained one.

use prost::Message;
use sea_orm::ConnectionTrait;
use tonic::Code;
use tonic_types::StatusExt;
use twotier_platform::auth::Role;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};
use twotier_proto::{customer as cpb, notification as npb, partnership as ppb};
use twotier_testkit::log::follow;
use twotier_testkit::{Bearer, SmtpSink, System, assert_error, flows, integration};

const A: &str = "contoso";
const B: &str = "northwind";
const LOGS: [&str; 4] = ["partnership", "customer", "subscription", "notification"];
/// A provider with its partner's tenant and PartnerID and its customer's
/// domain prefix.
type Party = (&'static str, &'static str, &'static str, &'static str);
/// The two providers.
const PARTIES: [Party; 2] = [
    (A, "fabrikam", "4567890", "alpha"),
    (B, "adatum", "5678901", "beta"),
];
/// Events each log holds at least once both providers have worked:
/// per provider an invitation and an acceptance (and each reseller's
/// onboarding); a customer, its delegation and its agreement; an order and
/// its subscription; four emails.
const AT_LEAST: [usize; 4] = [6, 6, 4, 8];
/// Every email address of the tests ends in this domain.
const ADDRESS: &str = ".example";

/// The reseller of `party` is onboarded and accepts its provider's
/// invitation.
async fn partner(system: &System, (provider, reseller, partner_id, _): Party) {
    let partnership = system.channel("partnership");
    flows::onboard(
        partnership.clone(),
        partner_id,
        reseller,
        reseller,
        "en",
        true,
    )
    .await;
    flows::partner(partnership, provider, reseller).await;
}

/// Each provider partners with its reseller, creates a customer for it
/// and buys with it as reseller of record.
async fn produce(system: &System) {
    for party in PARTIES {
        partner(system, party).await;
        let (provider, _, partner_id, prefix) = party;
        let customer = flows::customer(
            system.channel("customer"),
            provider,
            prefix,
            partner_id,
            true,
        )
        .await;
        let line = flows::line("m365-business-premium", 3, partner_id);
        flows::buy(
            system.channel("subscription"),
            provider,
            &customer,
            vec![line],
        )
        .await;
    }
}

fn positions(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().map(|event| event.position).collect()
}

fn text(events: &[EventEnvelope]) -> String {
    let bytes: Vec<u8> = events.iter().flat_map(Message::encode_to_vec).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn payload<M: prost::Name + Default>(events: &[EventEnvelope]) -> M {
    let event = events
        .iter()
        .find(|event| event.event_type == M::full_name())
        .unwrap_or_else(|| panic!("a {} event", M::full_name()));
    event
        .payload
        .as_ref()
        .expect("payload")
        .to_msg()
        .expect("payload decodes")
}

async fn subscribe(system: &System, log: &str, token: &str) -> Result<(), tonic::Status> {
    EventLogServiceClient::with_interceptor(system.channel(log), Bearer::new(token))
        .subscribe(SubscribeRequest::default())
        .await
        .map(drop)
}

// R30
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_providers_integration_follows_only_its_own_events_on_every_log_redacted() {
    let system = System::all(&[]).await;
    produce(&system).await;
    let service = twotier_testkit::service_token("tenant-feed-test");

    for (log, at_least) in LOGS.into_iter().zip(AT_LEAST) {
        let whole = follow(system.channel(log), &service, 0, &[], at_least).await;
        if log != "notification" {
            assert!(
                text(&whole).contains(ADDRESS),
                "{log}: a service reads addresses"
            );
        }
        for (provider, _, partner_id, _) in PARTIES {
            let (other, other_reseller, ..) = PARTIES
                .into_iter()
                .find(|party| party.0 != provider)
                .expect("two providers");
            let mine: Vec<u64> = whole
                .iter()
                .filter(|event| event.tenant_id == provider)
                .map(|event| event.position)
                .collect();
            assert!(mine.len() >= 2, "{log}: {provider} made events");
            let token = integration(provider);

            let fed = follow(system.channel(log), &token, 0, &[], mine.len()).await;
            assert_eq!(positions(&fed), mine, "{log}: {provider}'s own events, all");
            let seen = text(&fed);
            assert!(
                !seen.contains(ADDRESS),
                "{log}: no address in {provider}'s feed"
            );
            assert!(
                !seen.contains(other) && !seen.contains(other_reseller),
                "{log}: nothing of {other} in {provider}'s feed"
            );
            assert!(fed.iter().all(|event| event.trace_context.is_none()));
            assert!(seen.contains(partner_id) || log == "notification");

            // From a position in the middle: the rest of its own events.
            let middle = mine.len() / 2;
            let rest = follow(system.channel(log), &token, mine[middle - 1], &[], 1).await;
            assert_eq!(positions(&rest), mine[middle..], "{log}: from the middle");

            // Other provider roles are not integrations.
            for role in [Role::GlobalAdmin, Role::SalesAgent] {
                let admin = twotier_testkit::token("alice", provider, &[role]);
                assert_error(
                    subscribe(&system, log, &admin).await,
                    Code::PermissionDenied,
                    "ROLE_NOT_ALLOWED",
                );
            }
        }
    }

    // What A's backend reads of A's own events: what happened, not who
    // can be reached how.
    let customers = follow(system.channel("customer"), &integration(A), 0, &[], 3).await;
    let created: cpb::CustomerCreated = payload(&customers);
    let customer = created.customer.expect("customer");
    assert_eq!(customer.company_name, "alpha Ltd");
    assert!(customer.address.is_none());
    assert_eq!(customer.primary_contact, Some(cpb::Contact::default()));
    let reseller = created.indirect_reseller.expect("reseller");
    assert_eq!(reseller.partner_id, "4567890");
    assert!(reseller.contact_email.is_empty());
    let partnerships = follow(system.channel("partnership"), &integration(A), 0, &[], 2).await;
    let accepted: ppb::PartnershipAccepted = payload(&partnerships);
    let partnership = accepted.partnership.expect("partnership");
    assert_eq!(partnership.provider_id, A);
    assert!(partnership.accepted_by.is_empty());
    let reseller = accepted.reseller.expect("reseller");
    assert!(reseller.contact_email.is_empty());
    assert!(reseller.tenant_id.is_empty(), "the reseller's own tenant");
    assert_eq!(reseller.partner_id, "4567890");
    assert!(accepted.provider_contact.expect("contact").email.is_empty());
    let emails = follow(system.channel("notification"), &integration(A), 0, &[], 4).await;
    let sent: npb::EmailSent = payload(&emails);
    assert_eq!(sent.provider_id, A);
    assert!(sent.attempts >= 1 && !sent.kind.is_empty());
    assert_ne!(sent.recipient_role, npb::RecipientRole::Unspecified as i32);

    // B's backend filtering on the types A produced gets B's alone.
    let created = "twotier.customer.v1.CustomerCreated";
    let filtered = follow(
        system.channel("customer"),
        &integration(B),
        0,
        &[created],
        1,
    )
    .await;
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].tenant_id, B);
    assert!(!text(&filtered).contains(A));
}

// R30
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notification_log_reports_a_failed_then_a_sent_email_without_address_or_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = twotier_testkit::free_port();
    let system = System::all(&twotier_testkit::smtp::notification_env(&port.to_string())).await;
    partner(&system, PARTIES[0]).await;
    let notifications = system.channel("notification");

    // The SMTP server is down: the provider's email fails, for now.
    let failed_type = "twotier.notification.v1.EmailFailed";
    let failures = follow(notifications.clone(), &integration(A), 0, &[failed_type], 1).await;
    let failed: npb::EmailFailed = payload(&failures);
    assert_eq!(failed.provider_id, A);
    assert_eq!(failed.kind, "partnership_accepted");
    assert_eq!(failed.recipient_role, npb::RecipientRole::Provider as i32);
    assert_eq!(
        failed.cause.expect("cause").event_type,
        "twotier.partnership.v1.PartnershipAccepted"
    );
    assert!(failed.attempts >= 1 && !failed.permanent);
    assert!(failed.next_attempt_time.is_some());

    // Back up: it goes out, and the log says so.
    let _sink = SmtpSink::start_on(dir.path(), port).await;
    let sent_type = "twotier.notification.v1.EmailSent";
    let service = twotier_testkit::service_token("tenant-feed-test");
    let sends = follow(notifications.clone(), &service, 0, &[sent_type], 1).await;
    let sent: npb::EmailSent = payload(&sends);
    assert_eq!(sent.notification, failed.notification);
    assert!(sent.attempts > failed.attempts);
    assert!(sent.send_time.is_some());

    // Neither a service nor the provider reads an address, subject or body
    // in the notification log.
    let whole = follow(notifications, &service, 0, &[], 2).await;
    let logged = text(&whole);
    assert!(
        !logged.contains(ADDRESS),
        "no address in the notification log"
    );
    let recorded = system
        .notifications(&twotier_testkit::operator())
        .list_notifications(npb::ListNotificationsRequest::default())
        .await
        .expect("list notifications")
        .into_inner()
        .notifications;
    assert!(!recorded.is_empty());
    for email in recorded {
        assert!(!logged.contains(&email.subject), "no subject in the log");
    }
}

// R30
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_asking_for_pruned_positions_is_told_the_oldest_retained_one() {
    let system = System::start(&["partnership"], &[]).await;
    partner(&system, PARTIES[0]).await;
    let service = twotier_testkit::service_token("tenant-feed-test");
    let whole = follow(system.channel("partnership"), &service, 0, &[], 3).await;
    let head = whole.last().expect("events").position;
    // As retention would: the oldest events are gone.
    let db = twotier_platform::db::connect(&system.db("partnership").url, 2)
        .await
        .expect("connect");
    db.execute_unprepared(&format!("DELETE FROM outbox_event WHERE position < {head}"))
        .await
        .expect("prune");

    for token in [integration(A), service] {
        let status = assert_error(
            EventLogServiceClient::with_interceptor(
                system.channel("partnership"),
                Bearer::new(&token),
            )
            .subscribe(SubscribeRequest {
                after_position: 1,
                event_types: vec![],
            })
            .await,
            Code::FailedPrecondition,
            "EVENTS_PRUNED",
        );
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(
            info.metadata.get("oldest_retained_position"),
            Some(&head.to_string())
        );
        assert!(status.message().contains(&head.to_string()));
    }
    // From the start, a feed begins at the oldest retained event.
    let fed = follow(system.channel("partnership"), &integration(A), 0, &[], 1).await;
    assert_eq!(positions(&fed), [head]);
}

/// R30 against abuse: a tenant holds a bounded number of feeds open at once
/// (each one outlives its call and polls the database); one more is
/// refused as RESOURCE_EXHAUSTED while another tenant's and the services'
/// own streams go on, and closing a feed frees its place.
#[tokio::test]
async fn a_tenant_holding_its_maximum_of_open_feeds_is_refused_one_more_until_it_closes_one() {
    let system = System::start(&["partnership"], &[]).await;
    let open = |tenant: &'static str| {
        let channel = system.channel("partnership");
        async move {
            EventLogServiceClient::with_interceptor(channel, Bearer::new(&integration(tenant)))
                .subscribe(SubscribeRequest::default())
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let mut held = Vec::new();
    for _ in 0..twotier_outbox::MAX_FEEDS_PER_TENANT {
        held.push(open(A).await.expect("within the maximum"));
    }
    assert_error(
        open(A).await.map(drop),
        Code::ResourceExhausted,
        "TOO_MANY_SUBSCRIPTIONS",
    );
    open(B).await.expect("another tenant's feeds are its own");
    subscribe(
        &system,
        "partnership",
        &twotier_testkit::service_token("test"),
    )
    .await
    .expect("the services' streams are not counted");
    drop(held.pop());
    twotier_testkit::wait_until(
        "a closed feed frees its place",
        std::time::Duration::from_secs(10),
        || async { open(A).await.is_ok() },
    )
    .await;
}
