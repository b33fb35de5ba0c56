//! Delivers pending notifications, retrying temporary failures with backoff
//! until they go out. Nothing is lost: a notification stays pending in the
//! database until the mail server accepts it or refuses it for good.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::DbErr;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use twotier_outbox::Outbox;
use twotier_platform::capability::{self, CapabilityTokens};

use super::MailSettings;
use super::mailer::{Mailer, SendError};
use super::settlements::{Settlement, Settlements};
use crate::api::convert::delivery_report;
use crate::domain::{Backoff, Delivery, Outcome, Outgoing};
use crate::store::notification as store;

/// Notifications listed per round.
const BATCH: u64 = 64;

/// Sends due notifications.
pub struct Dispatcher {
    outbox: Outbox,
    settlements: Settlements,
    mailer: Box<dyn Mailer>,
    capabilities: CapabilityTokens,
    wake: Arc<Notify>,
    poll_interval: Duration,
    gather: Duration,
    backoff: Backoff,
    lease: Duration,
    concurrency: usize,
}

impl Dispatcher {
    /// A dispatcher sending through `mailer`, putting personal links'
    /// tokens (from `capabilities`) into the emails it sends, and reporting
    /// each attempt in `outbox` (the notification log); `wake` hurries it
    /// after new notifications are recorded.
    pub fn new(
        outbox: Outbox,
        mailer: Box<dyn Mailer>,
        capabilities: CapabilityTokens,
        wake: Arc<Notify>,
        settings: &MailSettings,
    ) -> Self {
        Self {
            settlements: Settlements::new(outbox.clone()),
            outbox,
            mailer,
            capabilities,
            wake,
            poll_interval: settings.mail_poll_interval,
            gather: settings.mail_gather,
            backoff: Backoff::capped_at(settings.mail_retry_max_backoff),
            lease: settings.mail_lease,
            concurrency: settings.mail_concurrency.max(1),
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
            let woken = tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => true,
                () = tokio::time::sleep(self.poll_interval) => false,
            };
            // Emails recorded one at a time (a quiet system, or one email
            // per command) would each cost a listing, a claim and a settle
            // of their own; waiting a moment lets one round take several.
            if woken && !self.gather.is_zero() {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(self.gather) => {},
                }
            }
        }
    }

    /// Sends the notifications due now, `concurrency` at a time (each
    /// waits on the mail server and a commit, so one at a time would cap
    /// the rate at the round trips); returns how many were listed. They are
    /// claimed in rounds of `concurrency`, one commit each, the next round
    /// once the previous one is under way, so a claimed email may wait for
    /// a place; one whose lease ran out meanwhile is not handed over.
    /// Every started delivery runs to its end before an error is returned,
    /// so none is left holding a lease it could have settled.
    async fn deliver_due(&self) -> Result<u64, DbErr> {
        use futures::StreamExt;
        let due = store::due(self.outbox.db(), Utc::now(), BATCH).await?;
        let listed = due.len() as u64;
        let mut in_flight = futures::stream::FuturesUnordered::new();
        let mut failure = None;
        for round in due.chunks(self.concurrency) {
            // Deliveries under way keep going while the next round is
            // claimed: one stopped inside its settle transaction would
            // hold the connection the claim waits for (SQLite has one).
            let claim = self.claim(round);
            tokio::pin!(claim);
            let claimed = loop {
                // A branch whose pattern fails sleeps for the rest of the
                // `select!`, so every outcome matches here.
                tokio::select! {
                    claimed = &mut claim => break claimed,
                    Some(outcome) = in_flight.next() => {
                        if let Err(error) = outcome {
                            failure = Some(error);
                        }
                    }
                }
            };
            let claimed = match claimed {
                Ok(claimed) => claimed,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            for (email, leased) in claimed {
                if in_flight.len() >= self.concurrency
                    && let Some(Err(error)) = in_flight.next().await
                {
                    failure = Some(error);
                }
                in_flight.push(self.deliver(email, leased));
            }
        }
        while let Some(outcome) = in_flight.next().await {
            if let Err(error) = outcome {
                failure = Some(error);
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(listed),
        }
    }

    /// Claims the emails of `round` the rule lets this dispatcher take now;
    /// those it got, each with the delivery its claim started. One another
    /// dispatcher took since it was listed is left to that one.
    async fn claim<'a>(
        &self,
        round: &'a [Outgoing],
    ) -> Result<Vec<(&'a Outgoing, Delivery)>, DbErr> {
        let now = Utc::now();
        // The rule computes each lease; the guarded write makes it hold
        // against a replica that took the email since it was listed.
        let leases: Vec<(&Outgoing, Delivery)> = round
            .iter()
            .filter_map(|email| Some((email, email.delivery.claim(now, self.lease).ok()?)))
            .collect();
        let ids: Vec<(&str, Delivery)> = leases
            .iter()
            .map(|(email, leased)| (email.id.as_str(), *leased))
            .collect();
        let claimed = store::claim(self.outbox.db(), &ids, now).await?;
        Ok(leases
            .into_iter()
            .filter(|(email, _)| claimed.contains(&email.id))
            .collect())
    }

    /// Hands `email`, claimed as `leased`, to the mail system and records
    /// the outcome; nothing if too little of the lease is left for the
    /// longest handover after the email waited for its place (another
    /// dispatcher may claim it before the handover ends; it goes out after
    /// a new claim).
    async fn deliver(&self, email: &Outgoing, leased: Delivery) -> Result<(), DbErr> {
        if !leased.may_hand_over(Utc::now(), handover_bound(self.lease)) {
            tracing::warn!(notification = %email.id, attempt = leased.attempts, "too little of the lease left for a handover; left for a new claim");
            return Ok(());
        }
        let span = tracing::info_span!(
            "email.send",
            notification = %email.id,
            template = %email.template,
            trace_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
        );
        twotier_platform::telemetry::set_remote_parent(
            &span,
            &email.traceparent,
            &email.tracestate,
        );
        async {
            let sent = self.mailer.send(&self.unsealed(email)).await;
            match &sent {
                Ok(()) => {
                    tracing::info!(notification = %email.id, template = %email.template, "email sent")
                }
                Err(failure) => {
                    tracing::warn!(notification = %email.id, attempt = leased.attempts, error = %failure, "email not sent")
                }
            }
            let outcome = sent.map_or_else(SendError::outcome, |()| Outcome::Delivered);
            self.settle(email, &leased, outcome).await
        }
        .instrument(span)
        .await
    }

    /// `email` as it goes out: a sealed personal link gets its token back
    /// here, in memory, so that no table ever holds it.
    fn unsealed(&self, email: &Outgoing) -> Outgoing {
        let mut outgoing = email.clone();
        if let Some(link) = &email.sealed_link {
            let token = self.capabilities.token(&link.kind, &link.id);
            outgoing.body = capability::unseal(&email.body, &token);
        }
        outgoing
    }

    /// Records how the attempt `leased` started ended, the notification's
    /// new state and its report in the notification log together, in a
    /// group with the other outcomes finishing at the same time.
    async fn settle(
        &self,
        email: &Outgoing,
        leased: &Delivery,
        outcome: Outcome,
    ) -> Result<(), DbErr> {
        let settled = match leased.settle(outcome, Utc::now(), self.backoff) {
            Ok(settled) => settled,
            Err(refused) => {
                tracing::warn!(notification = %email.id, %refused, "attempt not recorded");
                return Ok(());
            }
        };
        let recorded = self
            .settlements
            .record(Settlement {
                id: email.id.clone(),
                claimed: *leased,
                report: delivery_report(email, &settled),
                settled,
                span: tracing::Span::current(),
            })
            .await;
        match &recorded {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!(notification = %email.id, attempt = leased.attempts, "email settled by another dispatcher first")
            }
            Err(error) => {
                tracing::warn!(notification = %email.id, attempt = leased.attempts, %error, "attempt not recorded; the email goes out again after its lease")
            }
        }
        recorded.map(|_| ())
    }
}

/// How much of its lease an email must have left to be handed over: the
/// longest a handover may take, or half the lease if it is configured
/// shorter than that (then a slow handover may still overlap another
/// dispatcher's claim, as the setting's documentation warns).
fn handover_bound(lease: Duration) -> Duration {
    crate::mail::smtp::SMTP_TIMEOUT.min(lease / 2)
}
