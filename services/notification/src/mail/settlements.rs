//! Records the outcomes of delivery attempts in groups, one transaction
//! each (group commit): outcomes that finish while a group is being
//! recorded wait, and the next transaction takes all of them. Under load a
//! commit then records as many outcomes as finished during the previous
//! one, instead of one commit per email.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sea_orm::DbErr;
use tokio::sync::oneshot;
use twotier_outbox::{Event, Outbox};

use crate::domain::{Delivery, Settled};
use crate::store::notification as store;

/// Tries at recording a group after the first, while the database
/// connection fails, and the wait between them: a sent email that cannot
/// be recorded goes out again once its lease ends.
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
pub struct Settlements {
    outbox: Outbox,
    waiting: Mutex<Vec<(Settlement, Answer)>>,
    /// Held while a group is being recorded.
    recording: tokio::sync::Mutex<()>,
}

impl Settlements {
    /// Records into `outbox`'s database and notification log.
    pub fn new(outbox: Outbox) -> Self {
        Self {
            outbox,
            waiting: Mutex::new(Vec::new()),
            recording: tokio::sync::Mutex::new(()),
        }
    }

    /// Records `settlement` together with every other outcome waiting at
    /// its turn; the attempt's number, or `None` when another dispatcher
    /// settled the email first (this attempt's outcome is recorded all the
    /// same: it happened).
    pub async fn record(&self, settlement: Settlement) -> Result<Option<i32>, DbErr> {
        let (answer, answered) = oneshot::channel();
        self.waiting().push((settlement, answer));
        {
            let _turn = self.recording.lock().await;
            // Empty when a group recorded while this one waited for its
            // turn took this settlement along.
            let group = std::mem::take(&mut *self.waiting());
            if !group.is_empty() {
                self.record_group(group).await;
            }
        }
        answered.await.unwrap_or_else(|_| {
            Err(DbErr::Custom(
                "the group recording this outcome was stopped".into(),
            ))
        })
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<(Settlement, Answer)>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `group` in one transaction, retrying while the connection
    /// fails, and answers each of its settlements.
    async fn record_group(&self, mut group: Vec<(Settlement, Answer)>) {
        // One row order for every group: two dispatchers settling the same
        // emails (a lease that ran out mid-handover) then lock them in the
        // same order and never deadlock.
        group.sort_by(|(a, _), (b, _)| a.id.cmp(&b.id));
        let mut retries = RETRIES;
        let recorded = loop {
            match self.write(&group).await {
                Err(error) if retries > 0 && twotier_platform::db::is_connection_error(&error) => {
                    retries -= 1;
                    tokio::time::sleep(RETRY_AFTER).await;
                }
                recorded => break recorded,
            }
        };
        match recorded {
            Ok(numbers) => {
                for ((_, answer), number) in group.into_iter().zip(numbers) {
                    // The caller is gone only if the dispatcher stopped.
                    let _ = answer.send(Ok(number));
                }
            }
            Err(error) => {
                let error = error.to_string();
                for (_, answer) in group {
                    let _ = answer.send(Err(DbErr::Custom(error.clone())));
                }
            }
        }
    }

    /// Writes `group` in one transaction of four statements (the emails,
    /// their attempts, the reports of those settled here, the commit)
    /// whatever its size.
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
