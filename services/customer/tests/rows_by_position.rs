//! GetCustomer reads its row by column position (`store::by_position`),
//! on SQLite in the calling thread. Customers read every way from a
//! database the service wrote through gRPC must come out the same.

mod common;

use common::*;
use sea_orm::{EntityTrait, QueryOrder};
use twotier_customer::store;
use twotier_customer::store::entities::customer;
use twotier_proto::customer as pb;
use twotier_testkit::plans::{assert_each_uses, generic_plans};
use twotier_testkit::read_every_way;

#[tokio::test]
async fn customers_read_by_position_equal_customers_read_by_name() {
    let h = start().await;
    // One with a reseller and its agreement recorded, one with neither.
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let delegated = h.customer(PROVIDER, "adatum", RESELLER).await;
    h.customer(PROVIDER, "litware", "").await;
    h.customers(&provider_admin(PROVIDER))
        .record_customer_agreement(pb::RecordCustomerAgreementRequest {
            parent: delegated.name.clone(),
            customer_agreement: Some(pb::CustomerAgreement {
                signatory_first_name: "Wendy".into(),
                signatory_last_name: "Winter".into(),
                signatory_email: "wendy@adatum.example".into(),
                signatory_phone: String::new(),
                date_agreed: "2026-11-20".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("agreement recorded");

    let in_order = || customer::Entity::find().order_by_asc(customer::Column::Id);
    let by_name = read_every_way(&h.db("customer").url, in_order).await;
    assert_eq!(by_name.len(), 2);
    assert!(by_name.iter().any(|c| c.reseller_partner_id.is_some()));
    assert!(by_name.iter().any(|c| c.reseller_partner_id.is_none()));
    assert!(by_name.iter().any(|c| c.agreement_accepted));

    let read = h
        .customers(&provider_admin(PROVIDER))
        .get_customer(pb::GetCustomerRequest {
            name: delegated.name.clone(),
        })
        .await
        .expect("GetCustomer")
        .into_inner();
    assert!(read.customer_agreement_accepted);
    assert_eq!(read.indirect_reseller_partner_id, RESELLER);
}

/// A young table's statistics once led PostgreSQL's generic plan for this
/// lookup to the provider's index, which then walked all of the
/// provider's customers (`by_position::one_owned`).
#[tokio::test]
async fn on_postgresql_a_customer_is_looked_up_by_its_key_while_its_table_is_young() {
    if twotier_testkit::skip_without_postgres("the plan of a customer lookup") {
        return;
    }
    let h = start().await;
    let mut ids = Vec::new();
    for prefix in ["adatum", "litware", "tailspin"] {
        let name = h.customer(PROVIDER, prefix, "").await.name;
        ids.push(name.rsplit('/').next().expect("an id").to_owned());
    }
    h.customer(OTHER_PROVIDER, "wingtip", "").await;

    let id = ids[1].clone();
    let plans = generic_plans(&h.db("customer").url, async |db| {
        let found = store::customer::find(db, PROVIDER, &id)
            .await
            .expect("read");
        assert_eq!(found.map(|c| c.id), Some(id.clone()));
        let of_another = store::customer::find(db, OTHER_PROVIDER, &id)
            .await
            .expect("read");
        assert!(of_another.is_none(), "another provider's customer");
    })
    .await;
    assert_eq!(plans.len(), 2);
    assert_each_uses(&plans, "customer_pkey", "idx_customer_provider");
}
