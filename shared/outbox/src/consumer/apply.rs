//! Applying events: a ready run of them in one transaction, or one by one
//! with retries, parking an event that keeps failing as a dead letter.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};
use tracing::Instrument;
use twotier_proto::events::EventEnvelope;

use super::{Batch, Consumer, INSTRUMENTS};
use crate::entity::dead_letter;
use crate::handler::HandleError;

impl Consumer {
    /// Applies `events` (in log order) and moves the cursor past the last in
    /// one transaction. Asks for them to be applied one by one instead,
    /// having changed nothing, when a handler refused one (so retries and
    /// dead-lettering apply to it alone) or another replica got to some of
    /// them first.
    pub(super) async fn apply_batch(
        &self,
        events: &[&EventEnvelope],
    ) -> Result<Batch, HandleError> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(Batch::Applied);
        };
        if events.len() == 1 {
            return Ok(Batch::OneByOne { failed: None });
        }
        match self.try_batch(events, first.position, last.position).await {
            Ok(outcome) => Ok(outcome),
            Err(error) if error.is_transient() => Err(error),
            // A database error that is not an outage (a deadlock, a
            // serialisation failure): the one-by-one path counts attempts
            // and dead-letters, so nothing is retried without bound.
            Err(error) => {
                tracing::warn!(%error, "applying a batch failed; retrying one by one");
                Ok(Batch::OneByOne { failed: None })
            }
        }
    }

    pub(super) async fn try_batch(
        &self,
        events: &[&EventEnvelope],
        first: u64,
        last: u64,
    ) -> Result<Batch, HandleError> {
        let txn = self.db.begin().await?;
        if !self.claim_positions(&txn, first, last).await? {
            txn.rollback().await?;
            return Ok(Batch::OneByOne { failed: None });
        }
        for (index, envelope) in events.iter().enumerate() {
            if let Err(error) = self
                .handler
                .handle(&txn, envelope)
                .instrument(self.span(envelope))
                .await
            {
                txn.rollback().await?;
                if error.is_transient() {
                    return Err(error);
                }
                tracing::warn!(%error, event_id = %envelope.event_id, "handling event failed in a batch; retrying one by one");
                return Ok(Batch::OneByOne {
                    failed: Some(index),
                });
            }
        }
        txn.commit().await?;
        self.applied();
        Ok(Batch::Applied)
    }

    pub(super) fn record_lag(&self, envelope: &EventEnvelope) {
        let upstream = [opentelemetry::KeyValue::new(
            "upstream",
            self.settings.upstream.clone(),
        )];
        INSTRUMENTS.handled.add(1, &upstream);
        if let Some(at) = &envelope.occurred_at {
            let committed = std::time::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(at.seconds).unwrap_or_default())
                + Duration::from_nanos(u64::try_from(at.nanos).unwrap_or_default());
            if let Ok(lag) = std::time::SystemTime::now().duration_since(committed) {
                INSTRUMENTS.lag.record(lag.as_secs_f64(), &upstream);
            }
        }
    }

    /// Applies `envelope`, retrying failures; parks it after the last
    /// attempt. Returns an error only for transient failures, after which the
    /// consumer resubscribes from its cursor.
    pub(super) async fn handle_with_retries(
        &self,
        envelope: &EventEnvelope,
        prior_attempts: u32,
    ) -> Result<(), HandleError> {
        let mut delays = self.backoff();
        let mut attempts = prior_attempts;
        loop {
            attempts += 1;
            let error = match self.apply(envelope).await {
                Ok(()) => return Ok(()),
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => error,
            };
            if attempts >= self.settings.max_attempts {
                tracing::error!(%error, attempts, event_id = %envelope.event_id, "event dead-lettered");
                INSTRUMENTS.dead_letters.add(
                    1,
                    &[opentelemetry::KeyValue::new(
                        "upstream",
                        self.settings.upstream.clone(),
                    )],
                );
                return self.park(envelope, &error, attempts).await;
            }
            tracing::warn!(%error, attempts, event_id = %envelope.event_id, "handling event failed; retrying");
            tokio::time::sleep(delays.next().unwrap_or(self.settings.max_backoff)).await;
        }
    }

    /// Applies `envelope` and moves the cursor past it in one transaction.
    pub(super) async fn apply(&self, envelope: &EventEnvelope) -> Result<(), HandleError> {
        let txn = self.db.begin().await?;
        if !self
            .claim_positions(&txn, envelope.position, envelope.position)
            .await?
        {
            // Another replica of this consumer handled it already.
            txn.rollback().await?;
            return Ok(());
        }
        self.handler.handle(&txn, envelope).await?;
        txn.commit().await?;
        self.applied();
        Ok(())
    }

    pub(super) async fn park(
        &self,
        envelope: &EventEnvelope,
        error: &HandleError,
        attempts: u32,
    ) -> Result<(), HandleError> {
        let txn = self.db.begin().await?;
        if !self
            .claim_positions(&txn, envelope.position, envelope.position)
            .await?
        {
            txn.rollback().await?;
            return Ok(());
        }
        let row = dead_letter::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            upstream: Set(self.settings.upstream.clone()),
            position: Set(i64::try_from(envelope.position).unwrap_or(i64::MAX)),
            event_type: Set(envelope.event_type.clone()),
            envelope: Set(prost::Message::encode_to_vec(envelope)),
            error: Set(error.to_string()),
            attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
            state: Set(crate::dead_letters::PARKED.to_owned()),
            created_at: Set(Utc::now()),
            replayed_at: Set(None),
        };
        dead_letter::Entity::insert(row).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }
}
