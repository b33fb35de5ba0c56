//! What the directory asks its database: choosing a reseller (R24) reads
//! the reseller once and its partnership once.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, EntityTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use twotier_partners::entity::{partner_partnership, partner_reseller};
use twotier_partners::migration::{
    AddResellerEligibility, CreatePartnerDirectory, CreatePartnerProviders,
};
use twotier_partners::{Choice, PartnerDirectory};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreatePartnerDirectory),
            Box::new(AddResellerEligibility),
            Box::new(CreatePartnerProviders),
        ]
    }
}

const PROVIDER: &str = "provider-1";
const PARTNER: &str = "1234567";

/// A migrated in-memory projection holding an eligible reseller, with a
/// partnership to `PROVIDER` that is `active` (none when `None`).
async fn projection(active: Option<bool>) -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("in-memory SQLite");
    Migrator::up(&db, None).await.expect("migrated");
    partner_reseller::Entity::insert(partner_reseller::ActiveModel {
        partner_id: Set(PARTNER.into()),
        tenant_id: Set("reseller-tenant".into()),
        company_name: Set("Reseller GmbH".into()),
        contact_email: Set("admin@reseller.example".into()),
        preferred_language: Set("de".into()),
        position: Set(1),
        location_account: Set(true),
        mpa_active: Set(true),
    })
    .exec(&db)
    .await
    .expect("reseller stored");
    if let Some(active) = active {
        partner_partnership::Entity::insert(partner_partnership::ActiveModel {
            provider_id: Set(PROVIDER.into()),
            partner_id: Set(PARTNER.into()),
            partnership: Set(format!("providers/{PROVIDER}/partnerships/p1")),
            active: Set(active),
            state_changed_at: Set(Utc::now()),
            position: Set(2),
        })
        .exec(&db)
        .await
        .expect("partnership stored");
    }
    db
}

/// The statements `db` sends from here on.
fn count_statements(db: &mut DatabaseConnection) -> Arc<Mutex<Vec<String>>> {
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&sent);
    db.set_metric_callback(move |info| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(info.statement.sql.clone());
    });
    sent
}

#[tokio::test]
async fn choosing_an_active_partner_reads_the_reseller_and_the_partnership_once_each() {
    let mut db = projection(Some(true)).await;
    let sent = count_statements(&mut db);
    let directory = PartnerDirectory::new(db, None);

    let choice = directory.choose(PROVIDER, PARTNER).await.expect("answered");

    let Choice::Partner(reseller) = choice else {
        panic!("an active partner: {choice:?}");
    };
    assert_eq!(reseller.company_name, "Reseller GmbH");
    let sent = sent.lock().unwrap_or_else(PoisonError::into_inner);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent[0].contains("partner_reseller"), "{}", sent[0]);
    assert!(sent[1].contains("partner_partnership"), "{}", sent[1]);
}

#[tokio::test]
async fn a_removed_or_missing_partnership_leaves_an_eligible_reseller_not_a_partner() {
    for partnership in [Some(false), None] {
        let directory = PartnerDirectory::new(projection(partnership).await, None);

        let choice = directory.choose(PROVIDER, PARTNER).await.expect("answered");

        assert!(
            matches!(&choice, Choice::NotPartner(reseller) if reseller.partner_id == PARTNER),
            "{partnership:?}: {choice:?}"
        );
        assert!(
            !directory
                .is_active_partner(PROVIDER, PARTNER)
                .await
                .expect("answered")
        );
    }
}

/// A dead letter replayed after later events (an acceptance parked, then
/// the removal applied, then the acceptance replayed) brings back no older
/// state: the removed partnership stays removed.
#[tokio::test]
async fn an_older_event_applied_after_a_newer_one_changes_nothing() {
    use prost::Name;
    use sea_orm::TransactionTrait;
    use twotier_proto::events::EventEnvelope;
    use twotier_proto::partnership as pb;

    // Removed at position 2.
    let db = projection(Some(false)).await;
    let accepted = pb::PartnershipAccepted {
        partnership: Some(pb::Partnership {
            name: format!("providers/{PROVIDER}/partnerships/p1"),
            provider_id: PROVIDER.into(),
            partner_id: PARTNER.into(),
            ..Default::default()
        }),
        reseller: Some(pb::Reseller {
            partner_id: PARTNER.into(),
            tenant_id: "reseller-tenant".into(),
            company_name: "Reseller (an older name)".into(),
            contact_email: "old@reseller.example".into(),
            preferred_language: "en".into(),
            account_kind: pb::AccountKind::Location.into(),
            mpa_active: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let envelope = EventEnvelope {
        event_id: "e1".into(),
        event_type: pb::PartnershipAccepted::full_name(),
        position: 1,
        payload: Some(prost_types::Any::from_msg(&accepted).expect("encode")),
        ..Default::default()
    };
    let txn = db.begin().await.expect("begin");
    twotier_partners::handlers()
        .handle(&txn, &envelope)
        .await
        .expect("applied");
    txn.commit().await.expect("commit");
    let directory = PartnerDirectory::new(db, None);
    let choice = directory.choose(PROVIDER, PARTNER).await.expect("choose");
    let Choice::NotPartner(reseller) = choice else {
        panic!("still removed: {choice:?}");
    };
    assert_eq!(reseller.company_name, "Reseller GmbH", "not the older name");
}

/// Drafts and emails call a provider by its listing's display name, the
/// latest listing's even when an older one is replayed after it, and by
/// its tenant id while it has none.
#[tokio::test]
async fn a_provider_is_called_by_its_latest_listings_name_else_its_tenant_id() {
    use prost::Name;
    use sea_orm::TransactionTrait;
    use twotier_proto::events::EventEnvelope;
    use twotier_proto::partnership as pb;

    let db = projection(None).await;
    let listed = |display_name: &str, position: u64| {
        let changed = pb::ProviderListingChanged {
            provider_listing: Some(pb::ProviderListing {
                name: format!("providerListings/{PROVIDER}"),
                display_name: display_name.into(),
                ..Default::default()
            }),
        };
        EventEnvelope {
            event_id: format!("listing-{position}"),
            event_type: pb::ProviderListingChanged::full_name(),
            position,
            payload: Some(prost_types::Any::from_msg(&changed).expect("encode")),
            ..Default::default()
        }
    };
    let directory = PartnerDirectory::new(db.clone(), None);
    let name = async || {
        directory
            .provider_display_name(&db, PROVIDER)
            .await
            .expect("name")
    };
    assert_eq!(name().await, PROVIDER, "unlisted");
    let apply = async |event: EventEnvelope| {
        let txn = db.begin().await.expect("begin");
        twotier_partners::handlers()
            .handle(&txn, &event)
            .await
            .expect("applied");
        txn.commit().await.expect("commit");
    };
    apply(listed("Contoso Distribution", 5)).await;
    apply(listed("Contoso (older)", 3)).await;
    assert_eq!(name().await, "Contoso Distribution", "not the older name");
    apply(listed("Contoso Cloud", 7)).await;
    assert_eq!(name().await, "Contoso Cloud", "a later listing renames it");
}
