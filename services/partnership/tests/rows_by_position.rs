//! The hot reads decode rows by column position (`store::by_position`).
//! Partnerships and resellers read both ways from a database the service
//! wrote through gRPC must come out the same, and a page of indirect
//! resellers (its own narrow select) must show each as
//! `GetIndirectReseller` does.

mod common;

use common::*;
use sea_orm::{EntityTrait, QueryOrder};
use twotier_partnership::store;
use twotier_partnership::store::by_position;
use twotier_partnership::store::entities::{partnership, reseller};
use twotier_platform::inline_reads::{InlineReads, Reads};
use twotier_proto::partnership as pb;
use twotier_testkit::plans::{assert_each_uses, generic_plans};
use twotier_testkit::read_every_way;

/// Two resellers with different facts, the second changed since it was
/// onboarded; the first partnered, removed and partnered again (so one
/// row fills the removal's columns and changed state after its
/// acceptance), the second partnered with the provider too and with
/// another provider.
async fn partnerships_of_every_kind() -> Harness {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let tailspin = h
        .onboard_with(
            "7654321",
            "tailspin",
            "Tailspin Toys",
            pb::AccountKind::Location,
            true,
        )
        .await;
    // Changed since onboarding, so its two timestamps differ.
    h.resellers(&operator())
        .update_reseller(pb::UpdateResellerRequest {
            reseller: Some(pb::Reseller {
                contact_email: "partners@tailspin.example".into(),
                ..tailspin
            }),
            update_mask: None,
        })
        .await
        .expect("updated");
    h.partner(PROVIDER, RESELLER_TENANT).await;
    h.partnerships(&provider_admin(PROVIDER))
        .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
        .await
        .expect("removed");
    h.partner(PROVIDER, RESELLER_TENANT).await;
    h.partner(PROVIDER, "tailspin").await;
    h.partner(OTHER_PROVIDER, "tailspin").await;
    h
}

#[tokio::test]
async fn models_read_by_position_equal_models_read_by_name() {
    let h = partnerships_of_every_kind().await;
    let db = twotier_platform::db::connect(&h.db.url, 2)
        .await
        .expect("the service's database");

    // On SQLite, the reads by position in the calling thread as well.
    let reads = Reads::new(
        db.clone(),
        InlineReads::for_url(&h.db.url).expect("a database url"),
        None,
    );

    let in_order = || partnership::Entity::find().order_by_asc(partnership::Column::Id);
    let by_name = read_every_way(&h.db.url, in_order).await;
    assert_eq!(by_name.len(), 4);
    assert!(by_name.iter().any(|p| p.removed_at.is_some()));

    let changed = reseller::Entity::find_by_id("7654321")
        .one(&db)
        .await
        .expect("read")
        .expect("onboarded");
    assert_ne!(changed.created_at, changed.updated_at);
    for partner_id in [RESELLER_PARTNER_ID, "7654321"] {
        let by_name = reseller::Entity::find_by_id(partner_id)
            .one(&db)
            .await
            .expect("by name");
        let by_position = by_position::one(&db, reseller::Entity::find_by_id(partner_id))
            .await
            .expect("by position");
        let read_inline = by_position::one(&reads, reseller::Entity::find_by_id(partner_id))
            .await
            .expect("by position, in the calling thread");
        assert!(by_name.is_some());
        assert_eq!(by_position, by_name);
        assert_eq!(read_inline, by_name);
    }
}

#[tokio::test]
async fn a_page_shows_each_indirect_reseller_as_get_indirect_reseller_does() {
    let h = partnerships_of_every_kind().await;
    let mut client = h.partnerships(&provider_admin(PROVIDER));

    let page = client
        .list_indirect_resellers(list(PROVIDER))
        .await
        .expect("page")
        .into_inner();

    assert_eq!(page.indirect_resellers.len(), 2);
    for listed in page.indirect_resellers {
        let got = client
            .get_indirect_reseller(pb::GetIndirectResellerRequest {
                name: listed.name.clone(),
            })
            .await
            .expect("get")
            .into_inner();
        assert_eq!(listed, got);
    }
}

/// A young table's statistics can lead PostgreSQL's generic plan for this
/// lookup to the provider's list index, which walks all of the provider's
/// partnerships (`by_position::one_owned`).
#[tokio::test]
async fn on_postgresql_a_partnership_is_looked_up_by_its_key_while_its_table_is_young() {
    if twotier_testkit::skip_without_postgres("the plan of a partnership lookup") {
        return;
    }
    let h = partnerships_of_every_kind().await;
    let db = twotier_platform::db::connect(&h.db.url, 1)
        .await
        .expect("the service's database");
    let rows = partnership::Entity::find().all(&db).await.expect("read");
    let own = rows
        .iter()
        .find(|p| p.provider_id == PROVIDER)
        .expect("a partnership of the provider");
    let others = rows
        .iter()
        .find(|p| p.provider_id == OTHER_PROVIDER)
        .expect("a partnership of another provider");

    let plans = generic_plans(&h.db.url, async |db| {
        let found = store::partnership::get(db, PROVIDER, &own.id)
            .await
            .expect("read");
        assert_eq!(found.map(|p| p.id), Some(own.id.clone()));
        let of_another = store::partnership::get(db, PROVIDER, &others.id)
            .await
            .expect("read");
        assert!(of_another.is_none(), "another provider's partnership");
    })
    .await;
    assert_eq!(plans.len(), 2);
    assert_each_uses(&plans, "partnership_pkey", "idx_partnership_list");
}
