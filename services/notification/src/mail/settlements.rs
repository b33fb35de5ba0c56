//! Records the outcomes of delivery attempts in groups, one transaction
//! each (group commit): outcomes that finish while a group is being
//! recorded wait, and the next transaction takes all of them. Under load a
//! commit then records as many outcomes as finished during the previous
//! one, instead of one commit per email.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use sea_orm::DbErr;
use tokio::sync::oneshot;
use twotier_outbox::{Event, Outbox};

use crate::domain::{Delivery, Settled};
use crate::store::notification as store;

/// Tries at recording a group after the first, while the database
/// connection fails (and, beyond them, as long as the group's leases
/// last), and the wait between them: a sent email that cannot be recorded
/// goes out again once its lease ends.
const RETRIES: u32 = 3;
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// How one attempt ended, waiting to be recorded.
pub struct Settlement {
    /// The notification.
    pub id: String,
    /// The delivery its claim started.
    pub claimed: Delivery,
    /// What the attempt's outcome makes of it.
    pub settled: Settled,
    /// Its report in the notification log.
    pub report: Event,
    /// The email's span: the report carries its trace, whoever records it.
    pub span: tracing::Span,
}

/// Where a settlement's result goes: the attempt's number, or `None` when
/// another dispatcher settled the email first.
type Answer = oneshot::Sender<Result<Option<i32>, DbErr>>;

/// The outcomes waiting to be recorded, and the turn to record them.
#[derive(Clone)]
pub struct Settlements {
    shared: Arc<Shared>,
}

struct Shared {
    outbox: Outbox,
    waiting: Mutex<Vec<(Settlement, Answer)>>,
    /// Held while a group is being recorded.
    recording: tokio::sync::Mutex<()>,
}

impl Settlements {
    /// Records into `outbox`'s database and notification log.
    pub fn new(outbox: Outbox) -> Self {
        Self {
            shared: Arc::new(Shared {
                outbox,
                waiting: Mutex::new(Vec::new()),
                recording: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Records `settlement` together with every other outcome waiting at
    /// the next turn; the attempt's number, or `None` when another
    /// dispatcher settled the email first (this attempt's outcome is
    /// recorded all the same: it happened).
    ///
    /// Every settlement queued starts a turn of its own, run as a task of
    /// its own: a caller that stops waiting strands no one's outcome, and
    /// one whose outcome an earlier turn recorded is answered at once.
    pub async fn record(&self, settlement: Settlement) -> Result<Option<i32>, DbErr> {
        let (answer, answered) = oneshot::channel();
        self.shared.waiting().push((settlement, answer));
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _turn = shared.recording.lock().await;
            // Empty when an earlier turn took this settlement along.
            let waiting = std::mem::take(&mut *shared.waiting());
            for group in groups_of_distinct_emails(waiting) {
                shared.record_group(group).await;
            }
        });
        answered.await.unwrap_or_else(|_| {
            Err(DbErr::Custom(
                "the turn recording this outcome was stopped".into(),
            ))
        })
    }
}

impl Shared {
    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<(Settlement, Answer)>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `group` in one transaction, retrying while the connection
    /// fails, and answers each of its settlements. A group refused for
    /// another reason is recorded one settlement at a time, so that one
    /// email the database refuses does not leave the others unrecorded
    /// (and sent again after their leases).
    async fn record_group(&self, group: Vec<(Settlement, Answer)>) {
        let recorded = self.write_retrying(&group).await;
        match recorded {
            Ok(numbers) => answer(group, numbers),
            Err(error) if group.len() > 1 && !twotier_platform::db::is_retryable(&error) => {
                tracing::warn!(%error, emails = group.len(), "recording a group of outcomes failed; recording them one by one");
                for settlement in group {
                    let recorded = self.write_retrying(std::slice::from_ref(&settlement)).await;
                    match recorded {
                        Ok(numbers) => answer(vec![settlement], numbers),
                        Err(error) => fail(vec![settlement], &error),
                    }
                }
            }
            Err(error) => fail(group, &error),
        }
    }

    async fn write_retrying(
        &self,
        group: &[(Settlement, Answer)],
    ) -> Result<Vec<Option<i32>>, DbErr> {
        // While the leases last no other dispatcher takes these emails: an
        // outcome recorded by then (a sent email above all) is never sent
        // again, so a database that is briefly away is waited for.
        let leased_until = group
            .iter()
            .filter_map(|(settlement, _)| settlement.claimed.lease_until)
            .max();
        let mut retries = RETRIES;
        loop {
            match self.write(group).await {
                Err(error)
                    if twotier_platform::db::is_retryable(&error)
                        && (retries > 0
                            || leased_until.is_some_and(|until| Utc::now() < until)) =>
                {
                    retries = retries.saturating_sub(1);
                    tokio::time::sleep(RETRY_AFTER).await;
                }
                recorded => return recorded,
            }
        }
    }

    /// Writes `group` in one transaction: the emails, their attempts and
    /// the reports of those settled here, one statement each on
    /// PostgreSQL whatever the group's size (SQLite numbers each report as
    /// it writes it: one statement per report).
    async fn write(&self, group: &[(Settlement, Answer)]) -> Result<Vec<Option<i32>>, DbErr> {
        let rows: Vec<(&str, Delivery, &Settled)> = group
            .iter()
            .map(|(s, _)| (s.id.as_str(), s.claimed, &s.settled))
            .collect();
        let txn = self.outbox.begin().await?;
        let settled_here = store::settle(&txn, &rows).await?;
        let reports = group
            .iter()
            .zip(&settled_here)
            .filter(|(_, here)| **here)
            .map(|((s, _), _)| s.report.clone().traced_by(&s.span))
            .collect();
        txn.append_all(reports).await?;
        txn.commit().await?;
        Ok(group
            .iter()
            .zip(settled_here)
            .map(|((s, _), here)| here.then_some(s.claimed.attempts))
            .collect())
    }
}

/// `waiting` split into groups in which no email appears twice (a group
/// writes each email's row once), in the order they were queued.
fn groups_of_distinct_emails(waiting: Vec<(Settlement, Answer)>) -> Vec<Vec<(Settlement, Answer)>> {
    let mut groups: Vec<Vec<(Settlement, Answer)>> = Vec::new();
    for settlement in waiting {
        let free = groups
            .iter_mut()
            .find(|group| group.iter().all(|(s, _)| s.id != settlement.0.id));
        match free {
            Some(group) => group.push(settlement),
            None => groups.push(vec![settlement]),
        }
    }
    groups
}

fn answer(group: Vec<(Settlement, Answer)>, numbers: Vec<Option<i32>>) {
    for ((_, answer), number) in group.into_iter().zip(numbers) {
        // The caller is gone only if the dispatcher stopped.
        let _ = answer.send(Ok(number));
    }
}

fn fail(group: Vec<(Settlement, Answer)>, error: &DbErr) {
    let error = error.to_string();
    for (_, answer) in group {
        let _ = answer.send(Err(DbErr::Custom(error.clone())));
    }
}
