//! GetCustomer reads its row by column position (`store::by_position`),
//! on SQLite in the calling thread. Customers read every way from a
//! database the service wrote through gRPC must come out the same.

mod common;

use common::*;
use sea_orm::{DbBackend, EntityTrait, QueryOrder, QueryTrait};
use twotier_customer::store::by_position::{self, ByPosition};
use twotier_customer::store::entities::customer;
use twotier_platform::inline_reads::{InlineReads, Reads};
use twotier_proto::customer as pb;

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

    let url = &h.db("customer").url;
    let db = twotier_platform::db::connect(url, 2)
        .await
        .expect("the service's database");
    let reads = Reads::new(
        db.clone(),
        InlineReads::for_url(url).expect("a database url"),
    );
    let in_order = || customer::Entity::find().order_by_asc(customer::Column::Id);
    let by_name = in_order().all(&db).await.expect("by name");
    assert_eq!(by_name.len(), 2);
    assert!(by_name.iter().any(|c| c.reseller_partner_id.is_some()));
    assert!(by_name.iter().any(|c| c.reseller_partner_id.is_none()));
    assert!(by_name.iter().any(|c| c.agreement_accepted));

    let by_position = by_position::all::<customer::Model>(&db, in_order())
        .await
        .expect("by position");
    assert_eq!(by_position, by_name);
    let read_inline = by_position::all::<customer::Model>(&reads, in_order())
        .await
        .expect("by position, in the calling thread");
    assert_eq!(read_inline, by_name);
    if let Some(inline) = reads.inline() {
        // Answered there, not left to the pool.
        let statement = in_order().build(DbBackend::Sqlite);
        let answered = inline
            .query(&statement, |row| customer::Model::from_row(row))
            .expect("decoded")
            .expect("answered in the calling thread");
        assert_eq!(answered, by_name);
    }

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
