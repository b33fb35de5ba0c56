//! R26-R28 for subscriptions bought before the lifecycle existed: the
//! migration leaves them active and renewing, cancellable for the default
//! window after their purchase (R27), on SQLite and PostgreSQL alike.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::{Alias, Query};
use twotier_subscription::domain::SubscriptionState;
use twotier_subscription::store::migration::Migrator;
use twotier_testkit::TestDatabase;

/// R27
#[tokio::test]
async fn subscriptions_bought_before_the_lifecycle_are_active_and_cancellable_for_the_default_window()
 {
    let test_db = TestDatabase::new("subscription").await;
    let db = twotier_platform::db::connect(&test_db.url, 2)
        .await
        .expect("connect");
    let all = u32::try_from(Migrator::migrations().len()).unwrap();
    Migrator::up(&db, Some(all - 1))
        .await
        .expect("every migration before the lifecycle");
    let bought: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap();
    let customer = "providers/contoso/customers/adatum";
    db.execute(
        Query::insert()
            .into_table(Alias::new("subscription"))
            .columns(
                [
                    "id",
                    "provider_id",
                    "customer",
                    "order_id",
                    "offer_id",
                    "quantity",
                    "term",
                    "billing_cycle",
                    "created_at",
                    "updated_at",
                    "version",
                ]
                .map(Alias::new),
            )
            .values_panic([
                "s-legacy".into(),
                "contoso".into(),
                customer.into(),
                "o-legacy".into(),
                "m365-business-basic".into(),
                10.into(),
                "annual".into(),
                "monthly".into(),
                bought.into(),
                bought.into(),
                3i64.into(),
            ]),
    )
    .await
    .expect("a subscription bought before");

    Migrator::up(&db, None).await.expect("the lifecycle");
    let found = twotier_subscription::store::subscription::find(&db, customer, "s-legacy")
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(found.state, SubscriptionState::Active);
    assert!(found.auto_renew);
    assert_eq!(found.cancellation_deadline, bought + TimeDelta::days(7));
    assert_eq!(found.version, 3, "the migration is no change of its own");
}
