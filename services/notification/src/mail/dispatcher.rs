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
use crate::api::convert::delivery_report;
use crate::domain::{Backoff, Delivery, Outcome, Outgoing, Settled};
use crate::store::notification as store;

/// Most notifications listed per round.
const BATCH: usize = 64;
/// Tries at recording an attempt's outcome after the first, while the
/// database connection fails, and the wait between them.
const SETTLE_RETRIES: u32 = 3;
const SETTLE_RETRY_AFTER: Duration = Duration::from_millis(200);

/// Sends due notifications.
pub struct Dispatcher {
    outbox: Outbox,
    mailer: Box<dyn Mailer>,
    capabilities: CapabilityTokens,
    wake: Arc<Notify>,
    poll_interval: Duration,
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
            outbox,
            mailer,
            capabilities,
            wake,
            poll_interval: settings.mail_poll_interval,
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
                Ok(sent) if sent == self.batch() => continue,
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

    /// Sends up to [`Self::batch`] notifications due now: claims them in one
    /// commit, hands them over all at once (each waits on the mail server),
    /// and records the outcomes of those that finished together in one
    /// commit, so an email costs a share of two commits instead of two.
    /// Returns how many were listed. Every started delivery runs to its end
    /// before an error is returned, so none is left holding a lease it could
    /// have settled.
    async fn deliver_due(&self) -> Result<usize, DbErr> {
        use futures::StreamExt;
        let now = Utc::now();
        let due = store::due(self.outbox.db(), now, self.batch() as u64).await?;
        let listed = due.len();
        // The rule computes each lease; the guarded writes make them hold
        // against a replica that took an email since it was listed.
        let leased: Vec<(Outgoing, Delivery)> = due
            .into_iter()
            .filter_map(|email| {
                let leased = email.delivery.claim(now, self.lease).ok()?;
                Some((email, leased))
            })
            .collect();
        let claims: Vec<(&str, &Delivery)> = leased
            .iter()
            .map(|(email, leased)| (email.id.as_str(), leased))
            .collect();
        let got = store::claim_all(self.outbox.db(), &claims, now).await?;
        let claimed: Vec<(Outgoing, Delivery)> = leased
            .into_iter()
            .zip(got)
            .filter_map(|(claim, got)| got.then_some(claim))
            .collect();
        let mut finished = futures::stream::iter(claimed)
            .map(|(email, leased)| async move {
                let outcome = self.send(&email, &leased).await;
                (email, leased, outcome)
            })
            .buffer_unordered(self.concurrency)
            .ready_chunks(self.concurrency);
        let mut first_error = None;
        while let Some(outcomes) = finished.next().await {
            if let Err(error) = self.settle_all(outcomes).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(listed), Err)
    }

    /// Emails claimed per round: no more than go out at once, so every
    /// claimed email is handed over at once and its lease (longer than the
    /// SMTP timeout) outlasts its handover even when the server stalls.
    fn batch(&self) -> usize {
        self.concurrency.min(BATCH)
    }

    /// Hands `email` (claimed as `leased`) to the mail system, in a span
    /// joining the trace of the event that caused it.
    async fn send(&self, email: &Outgoing, leased: &Delivery) -> Outcome {
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
            sent.map_or_else(SendError::outcome, |()| Outcome::Delivered)
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

    /// Records how the attempts in `outcomes` ended, each email's new state
    /// and its report in the notification log, together.
    async fn settle_all(&self, outcomes: Vec<(Outgoing, Delivery, Outcome)>) -> Result<(), DbErr> {
        let now = Utc::now();
        let settled: Vec<(Outgoing, Delivery, Settled)> = outcomes
            .into_iter()
            .filter_map(|(email, leased, outcome)| {
                match leased.settle(outcome, now, self.backoff) {
                    Ok(settled) => Some((email, leased, settled)),
                    Err(refused) => {
                        tracing::warn!(notification = %email.id, %refused, "attempt not recorded");
                        None
                    }
                }
            })
            .collect();
        // Sent emails whose outcome cannot be recorded go out again once
        // their lease ends, so a passing database fault is worth a few
        // retries.
        let mut retries = SETTLE_RETRIES;
        let recorded = loop {
            let settlements = settled
                .iter()
                .map(|(email, leased, settled)| store::Settlement {
                    id: &email.id,
                    claimed: leased,
                    settled,
                    report: delivery_report(email, settled),
                })
                .collect();
            match store::settle_all(&self.outbox, settlements).await {
                Err(error) if retries > 0 && twotier_platform::db::is_connection_error(&error) => {
                    retries -= 1;
                    tokio::time::sleep(SETTLE_RETRY_AFTER).await;
                }
                outcome => break outcome,
            }
        };
        match &recorded {
            Ok(attempts) => {
                for ((email, leased, _), attempt) in settled.iter().zip(attempts) {
                    if attempt.is_none() {
                        tracing::warn!(notification = %email.id, attempt = leased.attempts, "email settled by another dispatcher first");
                    }
                }
            }
            Err(error) => {
                for (email, leased, _) in &settled {
                    tracing::warn!(notification = %email.id, attempt = leased.attempts, %error, "attempt not recorded; the email goes out again after its lease");
                }
            }
        }
        recorded.map(|_| ())
    }
}
