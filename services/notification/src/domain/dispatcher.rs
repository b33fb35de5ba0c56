//! Delivers pending notifications, retrying temporary failures with backoff
//! until they go out. Nothing is lost: a notification stays pending in the
//! database until the mail server accepts it or refuses it for good.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Cond, Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use twotier_platform::capability::{self, CapabilityTokens};

use super::mailer::{Mailer, SendError};
use super::status;
use crate::store::entities::{delivery_attempt, notification};

/// Notifications claimed per round.
const BATCH: u64 = 16;
/// The first retry waits this long; each further one twice as long.
const FIRST_RETRY: Duration = Duration::from_millis(200);

/// Sends due notifications.
pub struct Dispatcher {
    db: DatabaseConnection,
    mailer: Box<dyn Mailer>,
    capabilities: CapabilityTokens,
    wake: Arc<Notify>,
    poll_interval: Duration,
    max_backoff: Duration,
    lease: Duration,
}

impl Dispatcher {
    /// A dispatcher sending through `mailer`, putting personal links'
    /// tokens (from `capabilities`) into the emails it sends; `wake` hurries
    /// it after new notifications are recorded.
    pub fn new(
        db: DatabaseConnection,
        mailer: Box<dyn Mailer>,
        capabilities: CapabilityTokens,
        wake: Arc<Notify>,
        settings: &super::MailSettings,
    ) -> Self {
        Self {
            db,
            mailer,
            capabilities,
            wake,
            poll_interval: settings.mail_poll_interval,
            max_backoff: settings.mail_retry_max_backoff,
            lease: settings.mail_lease,
        }
    }

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(mail = %self.mailer.describe(), "notification dispatcher started");
        loop {
            match self.deliver_due().await {
                Ok(sent) if sent == BATCH => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "dispatching notifications failed; will retry")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {},
                () = tokio::time::sleep(self.poll_interval) => {},
            }
        }
    }

    /// Sends the notifications due now; returns how many were tried.
    async fn deliver_due(&self) -> Result<u64, DbErr> {
        let now = Utc::now();
        let due = notification::Entity::find()
            .filter(notification::Column::Status.eq(status::PENDING))
            .filter(notification::Column::NextAttemptAt.lte(now))
            .filter(unleased(now))
            .order_by_asc(notification::Column::NextAttemptAt)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        let tried = due.len() as u64;
        for email in due {
            if !self.claim(&email).await? {
                continue;
            }
            let span = tracing::info_span!(
                "email.send",
                notification = %email.id,
                template = %email.template,
                trace_id = tracing::field::Empty,
            );
            twotier_platform::telemetry::set_remote_parent(
                &span,
                &email.traceparent,
                &email.tracestate,
            );
            async {
                let outcome = self.mailer.send(&self.outgoing(&email)).await;
                self.settle(&email, outcome).await
            }
            .instrument(span)
            .await?;
        }
        Ok(tried)
    }

    /// `email` as it goes out: a sealed personal link gets its token back
    /// here, in memory, so that no table ever holds it.
    fn outgoing(&self, email: &notification::Model) -> notification::Model {
        let Some((kind, id)) = email
            .sealed_link
            .as_deref()
            .and_then(|sealed| sealed.split_once(':'))
        else {
            return email.clone();
        };
        let mut outgoing = email.clone();
        outgoing.body = capability::unseal(&email.body, &self.capabilities.token(kind, id));
        outgoing
    }

    /// Takes a lease on `email`, so another replica does not send it too.
    async fn claim(&self, email: &notification::Model) -> Result<bool, DbErr> {
        let now = Utc::now();
        let lease = now + chrono::Duration::from_std(self.lease).unwrap_or_default();
        let claimed = notification::Entity::update_many()
            .col_expr(notification::Column::LeaseUntil, Expr::value(Some(lease)))
            .filter(notification::Column::Id.eq(&email.id))
            .filter(notification::Column::Status.eq(status::PENDING))
            // As it was when listed: a replica working through an older
            // list must not retry what another just tried (and backed off).
            .filter(notification::Column::Attempts.eq(email.attempts))
            .filter(notification::Column::NextAttemptAt.lte(now))
            .filter(unleased(now))
            .exec(&self.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Records the attempt and the notification's new state together.
    async fn settle(
        &self,
        email: &notification::Model,
        outcome: Result<(), SendError>,
    ) -> Result<(), DbErr> {
        let now = Utc::now();
        let attempt = email.attempts + 1;
        let (state, outcome_name, error) = match &outcome {
            Ok(()) => (status::SENT, "delivered", String::new()),
            Err(SendError::Transient(e)) => (status::PENDING, "transient_failure", e.clone()),
            Err(SendError::Permanent(e)) => (status::FAILED, "permanent_failure", e.clone()),
        };
        match &outcome {
            Ok(()) => {
                tracing::info!(notification = %email.id, template = %email.template, "email sent")
            }
            Err(failure) => {
                tracing::warn!(notification = %email.id, attempt, error = %failure, "email not sent")
            }
        }
        let txn = self.db.begin().await?;
        let next_attempt =
            now + chrono::Duration::from_std(self.backoff(attempt)).unwrap_or_default();
        let mut settle = notification::Entity::update_many()
            .col_expr(notification::Column::Status, Expr::value(state))
            .col_expr(
                notification::Column::Attempts,
                Expr::col(notification::Column::Attempts).add(1),
            )
            .col_expr(notification::Column::LastError, Expr::value(error.clone()))
            .col_expr(
                notification::Column::LeaseUntil,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(
                notification::Column::NextAttemptAt,
                Expr::value(next_attempt),
            )
            .col_expr(
                notification::Column::SentAt,
                Expr::value(outcome.is_ok().then_some(now)),
            )
            .filter(notification::Column::Id.eq(&email.id))
            .filter(notification::Column::Status.eq(status::PENDING));
        if outcome.is_err() {
            // A failure only counts if nobody settled this attempt meanwhile
            // (the lease ran out mid-send); a delivery always counts.
            settle = settle.filter(notification::Column::Attempts.eq(email.attempts));
        }
        let Some(settled) = settle.exec_with_returning(&txn).await?.into_iter().next() else {
            tracing::warn!(notification = %email.id, attempt, "attempt settled by another dispatcher first");
            return txn.rollback().await;
        };
        delivery_attempt::Entity::insert(delivery_attempt::ActiveModel {
            notification_id: Set(email.id.clone()),
            attempt: Set(settled.attempts),
            attempted_at: Set(now),
            outcome: Set(outcome_name.to_owned()),
            error: Set(error),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await
    }

    fn backoff(&self, attempt: i32) -> Duration {
        let exponent = Ord::min(u32::try_from(attempt.saturating_sub(1)).unwrap_or(0), 16);
        FIRST_RETRY
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max_backoff)
    }
}

fn unleased(now: chrono::DateTime<Utc>) -> Cond {
    Cond::any()
        .add(notification::Column::LeaseUntil.is_null())
        .add(notification::Column::LeaseUntil.lt(now))
}
