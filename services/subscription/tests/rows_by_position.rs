//! Checkout reads its cart, the cart's lines and their offers by column
//! position (`store::by_position`): on SQLite in the calling thread, on
//! PostgreSQL on a held connection. Rows read every way from a database
//! the service wrote through gRPC must come out the same.

mod common;

use common::*;
use sea_orm::{EntityTrait, QueryOrder};
use twotier_subscription::store::entities::{cart, cart_line, offer};
use twotier_testkit::{flows, read_every_way};

#[tokio::test]
async fn carts_lines_and_offers_read_by_position_equal_those_read_by_name() {
    let h = start().await;
    // An ordered cart whose line has a reseller of record, an open
    // attested cart whose line has none, and an empty unattested cart.
    let (customer, _) = h.bought_with_reseller().await;
    h.cart(
        PROVIDER,
        &customer,
        vec![line("m365-business-standard", 3, "")],
    )
    .await;
    flows::empty_cart(h.channel("subscription"), PROVIDER, &customer).await;
    let url = &h.db("subscription").url;

    let carts = read_every_way(url, || cart::Entity::find().order_by_asc(cart::Column::Id)).await;
    assert_eq!(carts.len(), 3);
    assert!(carts.iter().any(|c| c.order_id.is_some()));
    assert!(carts.iter().any(|c| c.attested_at.is_none()));
    let lines = read_every_way(url, || {
        cart_line::Entity::find().order_by_asc(cart_line::Column::Id)
    })
    .await;
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().any(|l| l.reseller_partner_id.is_some()));
    assert!(lines.iter().any(|l| l.reseller_partner_id.is_none()));
    let offers = read_every_way(url, || {
        offer::Entity::find().order_by_asc(offer::Column::Id)
    })
    .await;
    assert!(offers.len() > 1, "the seeded catalog");
}
