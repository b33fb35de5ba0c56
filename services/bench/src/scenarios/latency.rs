//! Event latency: committed event to projection and to notification.

use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use twotier_proto::partnership as ppb;

use crate::driver::Measurement;
use crate::system::System;

use super::*;

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
        // The event is looked up by its time's index: by its aggregate
        // alone it would be a scan of the whole log on every sample, load
        // the measurement itself put on the database it measures.
        let not_before = chrono::Utc::now() - chrono::Duration::seconds(1);
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
            .filter(outbox_event::Column::OccurredAt.gte(not_before))
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
