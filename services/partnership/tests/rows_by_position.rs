//! The hot reads decode partnerships and resellers by column position
//! (`store::by_position`); these rows, read both ways from a database the
//! service wrote through gRPC, must come out the same.

mod common;

use common::*;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use twotier_partnership::store::by_position::{self, ByPosition};
use twotier_partnership::store::entities::{partnership, reseller};

#[tokio::test]
async fn rows_read_by_position_equal_rows_read_by_name() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.onboard("7654321", "tailspin", "Tailspin").await;
    // A removed partnership fills the optional columns; the partnership
    // after it leaves them empty.
    h.partner(PROVIDER, RESELLER_TENANT).await;
    h.partnerships(&provider_admin(PROVIDER))
        .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
        .await
        .expect("removed");
    h.partner(PROVIDER, RESELLER_TENANT).await;
    h.partner(OTHER_PROVIDER, "tailspin").await;
    let db = twotier_platform::db::connect(&h.db.url, 2)
        .await
        .expect("the service's database");
    // A partnership whose reseller is gone: the join's reseller side is
    // empty.
    let orphan = partnership::Entity::find()
        .one(&db)
        .await
        .expect("read")
        .expect("a partnership");
    partnership::ActiveModel {
        id: Set("orphan".into()),
        partner_id: Set("0000000".into()),
        ..orphan.into()
    }
    .insert(&db)
    .await
    .expect("orphan written");

    let in_order = || {
        partnership::Entity::find()
            .order_by_asc(partnership::Column::Id)
            .find_also_related(reseller::Entity)
    };
    let by_name = in_order().all(&db).await.expect("by name");
    let reseller_columns = by_position::width::<partnership::Entity>();
    let by_position = by_position::all(&db, in_order(), |row| {
        Ok((
            partnership::Model::at(row, 0)?,
            Option::at(row, reseller_columns)?,
        ))
    })
    .await
    .expect("by position");

    assert_eq!(by_name.len(), 4);
    assert!(
        by_name
            .iter()
            .any(|(p, r)| p.removed_at.is_some() && r.is_some())
    );
    assert!(by_name.iter().any(|(_, r)| r.is_none()));
    assert_eq!(by_position, by_name);

    let reseller_by_name = reseller::Entity::find_by_id(RESELLER_PARTNER_ID)
        .one(&db)
        .await
        .expect("by name");
    let reseller_by_position: Option<reseller::Model> =
        by_position::one(&db, reseller::Entity::find_by_id(RESELLER_PARTNER_ID))
            .await
            .expect("by position");
    assert!(reseller_by_name.is_some());
    assert_eq!(reseller_by_position, reseller_by_name);
}
