//! R24 (subscription side): a reseller that fails R3 is refused by every
//! RPC that chooses one (a subscription's reseller of record and support
//! contact, each checkout line) with exactly the code and reason
//! `VerifyPartnerId` gives the same PartnerID, and nothing changes.
//! (The customer side of R24 is shown by the customer service's tests.)

mod common;

use common::*;
use tonic::{Code, Status};
use twotier_platform::upstream::reason_of;
use twotier_proto::partnership as ppb;
use twotier_proto::subscription as pb;
use twotier_testkit::{System, assert_error, flows, violated_fields};

const MALFORMED: &str = "12-34";
const UNKNOWN: &str = "9999999";
const GLOBAL: &str = "1111111";
const LAPSED: &str = "2222222";

/// What `VerifyPartnerId` answers for `partner_id`: its code and reason.
async fn verdict(h: &Harness, partner_id: &str) -> (Code, String) {
    let status = h
        .resellers(&provider_admin(PROVIDER))
        .verify_partner_id(ppb::VerifyPartnerIdRequest {
            partner_id: partner_id.into(),
        })
        .await
        .expect_err("fails R3");
    (status.code(), reason_of(&status).unwrap_or_default())
}

fn same_as(result: Result<impl std::fmt::Debug, Status>, expected: &(Code, String)) -> Status {
    assert_error(result, expected.0, &expected.1)
}

/// R24
#[tokio::test]
async fn every_rpc_that_chooses_a_reseller_refuses_it_as_verify_partner_id_does() {
    let h = start().await;
    let (customer, subscription) = h.bought_with_reseller().await;
    flows::onboard_kind(
        h.channel("partnership"),
        GLOBAL,
        "global-co",
        "Global Co",
        "en",
        ppb::AccountKind::Global,
        true,
    )
    .await;
    h.onboard(LAPSED, "lapsed", "Lapsed Co", false).await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let cart = h
        .cart(
            PROVIDER,
            &customer,
            vec![line("m365-business-basic", 1, "")],
        )
        .await;
    let line_id = cart.line_items[0].line_item_id.clone();

    let expected = [
        (MALFORMED, Code::InvalidArgument, "PARTNER_ID_MALFORMED"),
        (UNKNOWN, Code::NotFound, "PARTNER_ID_NOT_FOUND"),
        (
            GLOBAL,
            Code::FailedPrecondition,
            "PARTNER_ID_NOT_LOCATION_ACCOUNT",
        ),
        (LAPSED, Code::FailedPrecondition, "PARTNER_MPA_NOT_ACTIVE"),
    ];
    for (partner_id, code, reason) in expected {
        let verdict = verdict(&h, partner_id).await;
        assert_eq!(verdict, (code, reason.to_owned()), "{partner_id}");

        let status = same_as(
            client
                .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                    name: subscription.name.clone(),
                    reseller_partner_id: partner_id.into(),
                    etag: subscription.etag.clone(),
                })
                .await,
            &verdict,
        );
        if code == Code::InvalidArgument {
            assert_eq!(violated_fields(&status), vec!["reseller_partner_id"]);
        }
        let status = same_as(
            client
                .set_support_contact(pb::SetSupportContactRequest {
                    name: subscription.name.clone(),
                    support_contact_partner_id: partner_id.into(),
                    etag: subscription.etag.clone(),
                })
                .await,
            &verdict,
        );
        if code == Code::InvalidArgument {
            assert_eq!(violated_fields(&status), vec!["support_contact_partner_id"]);
        }

        let mut chosen = line("m365-business-basic", 1, partner_id);
        if code == Code::InvalidArgument {
            // A malformed PartnerID never gets into a cart.
            let status = same_as(
                client
                    .add_line_item(pb::AddLineItemRequest {
                        cart: cart.name.clone(),
                        line_item: Some(chosen.clone()),
                    })
                    .await,
                &verdict,
            );
            assert_eq!(
                violated_fields(&status),
                vec!["line_item.reseller_partner_id"]
            );
            chosen.line_item_id = line_id.clone();
            same_as(
                client
                    .update_line_item(pb::UpdateLineItemRequest {
                        cart: cart.name.clone(),
                        line_item: Some(chosen),
                    })
                    .await,
                &verdict,
            );
            continue;
        }
        // Any other is refused when the line is reviewed and bought.
        let checked = h.cart(PROVIDER, &customer, vec![chosen]).await;
        same_as(
            client
                .review_cart(pb::ReviewCartRequest {
                    cart: checked.name.clone(),
                })
                .await,
            &verdict,
        );
        same_as(
            client
                .checkout_cart(pb::CheckoutCartRequest {
                    cart: checked.name.clone(),
                    request_id: String::new(),
                    etag: checked.etag.clone(),
                })
                .await,
            &verdict,
        );
    }

    let unchanged = client
        .get_subscription(pb::GetSubscriptionRequest {
            name: subscription.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged, subscription, "every refusal changed nothing");
    let orders = client
        .list_orders(pb::ListOrdersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(orders.orders.len(), 1, "no refused line was bought");
}

/// R18, R20: the email about a new reseller of record goes to the address
/// the reseller has now: one the operator changed a moment ago is the one
/// in the event, though the subscription service follows the partnership
/// log over a slow link.
#[tokio::test]
async fn r20_a_reseller_of_record_named_right_after_its_address_changed_is_told_at_the_new_one() {
    let mut system = System::start(&["partnership", "customer"], &[]).await;
    let link = twotier_testkit::ChaosProxy::start(system.server("partnership").addr).await;
    let through_link = format!("http://{}", link.addr);
    system
        .add(
            "subscription",
            &[("TWOTIER_PARTNERSHIP_ENDPOINT", &through_link)],
        )
        .await;
    let h = Harness { system };
    let (_, bought) = h.bought_with_reseller().await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let cleared = client
        .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
            name: bought.name.clone(),
            reseller_partner_id: String::new(),
            etag: String::new(),
        })
        .await
        .expect("cleared")
        .into_inner();
    link.lag(std::time::Duration::from_millis(300));
    flows::update_reseller(
        h.channel("partnership"),
        RESELLER,
        "contact_email",
        |reseller| {
            reseller.contact_email = "partners@fabrikam.example".into();
        },
    )
    .await;
    client
        .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
            name: cleared.name.clone(),
            reseller_partner_id: RESELLER.into(),
            etag: cleared.etag.clone(),
        })
        .await
        .expect("named again");
    let events = h.events(3).await;
    let named = events
        .iter()
        .filter(|e| e.event_type == "twotier.subscription.v1.ResellerOfRecordChanged")
        .filter_map(|e| {
            e.payload
                .as_ref()?
                .to_msg::<pb::ResellerOfRecordChanged>()
                .ok()
        })
        .filter_map(|changed| changed.reseller)
        .next_back()
        .expect("the reseller named");
    assert_eq!(named.contact_email, "partners@fabrikam.example");
}
