//! One unit of work per command: begin; claim the request id (a retry gets
//! the reply stored by the first attempt and changes nothing); run the
//! command's writes and append its events; store the reply for retries;
//! record the command in the audit trail; commit. Every command of every service goes through [`Outbox::command`],
//! so the outbox row and the stored reply are always in the command's own
//! transaction. A command that checks things before its transaction runs
//! them and the command inside [`Outbox::audited`], so that a refusal
//! decided there is in the audit trail too.

use sea_orm::DbErr;
use twotier_platform::Error;
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};

use crate::audit::{self, AuditedError};
use crate::{Outbox, Tx};

/// The outcome and code of a command that succeeded.
const OK: &str = "OK";

/// How a command that can lose a race to a concurrent one fails: a
/// refusal, or the sign that the other command won (`W` says what to look
/// up), which the caller answers from the winner's result. A lost race is
/// not a refusal to the caller, so it is not recorded as one; the winner's
/// own record stands.
#[derive(Debug)]
pub enum Contested<W> {
    /// The failure to answer with.
    Failed(Error),
    /// A concurrent command won.
    Lost(W),
}

impl<W> AuditedError for Contested<W> {
    fn audit_outcome(&self) -> Option<(String, String)> {
        match self {
            Self::Failed(error) => error.audit_outcome(),
            Self::Lost(_) => None,
        }
    }
}

impl<W, E: Into<Error>> From<E> for Contested<W> {
    fn from(error: E) -> Self {
        Self::Failed(error.into())
    }
}

/// What a command answers: to this call, and to every retry with its
/// request id.
#[derive(Debug, Clone)]
pub struct Reply<R> {
    answer: R,
    for_retries: Option<R>,
}

impl<R> Reply<R> {
    /// `answer`, to this call and to every retry.
    pub fn new(answer: R) -> Self {
        Self {
            answer,
            for_retries: None,
        }
    }

    /// `answer` to this call, `for_retries` to retries: a reply with a
    /// secret returned once, or with a secret sealed for storage.
    pub fn with_retry(answer: R, for_retries: R) -> Self {
        Self {
            answer,
            for_retries: Some(for_retries),
        }
    }
}

impl Outbox {
    /// Runs `work` as one command on `resource` (its resource name, or
    /// the parent it creates in) under the request id `key` (none: no
    /// retry protection). A retry returns the stored reply without running
    /// `work`; a request id reused for a different request is refused.
    /// Nothing of `work` is kept unless it succeeds; either way the command
    /// is recorded in the audit trail.
    pub async fn command<R, E>(
        &self,
        resource: &str,
        key: Option<&IdempotencyKey>,
        work: impl AsyncFnOnce(&Tx) -> Result<Reply<R>, E>,
    ) -> Result<R, E>
    where
        R: prost::Message + Default,
        E: From<Error> + From<DbErr> + AuditedError,
    {
        let subject = audit::Subject {
            resource,
            request_id: key.map(IdempotencyKey::request_id).unwrap_or_default(),
            opened: false,
        };
        // A scope of its own, so that a resource `work` names (`audit::audit_as`)
        // is the one recorded, whether it commits or is refused.
        let watched = audit::watching(Box::pin(async {
            let outcome = async {
                let tx = self.begin().await?;
                if let Claim::Replay(stored) = idempotency::claim(&tx, key).await? {
                    return Ok(stored);
                }
                let reply = work(&tx).await?;
                let stored = reply.for_retries.as_ref().unwrap_or(&reply.answer);
                idempotency::complete(&tx, key, stored).await?;
                audit::record(&*tx, &subject, OK, OK).await?;
                tx.commit().await?;
                Ok::<R, E>(reply.answer)
            }
            .await;
            if let Err(error) = &outcome {
                audit::record_refusal(self.db(), &subject, error).await;
            }
            outcome
        }))
        .await;
        watched.outcome
    }

    /// Runs one command call whose checks begin before its transaction:
    /// `call` makes them (reads outside the transaction, questions to
    /// other services) and then runs [`Outbox::command`] on `resource`.
    /// A refusal decided before the transaction is recorded in the audit
    /// trail as one decided inside it is (R29: every command records its
    /// outcome), with the call's `request_id` if it is well-formed (one
    /// refused for its form is not kept); one the command recorded is not
    /// recorded again.
    ///
    /// `call` goes to the heap at once: calls nest (a handler's checks
    /// inside the RPC's own), and a future holding another by value would
    /// grow with each level, on the stack of whoever creates it.
    pub fn audited<'a, R, E>(
        &'a self,
        resource: &'a str,
        request_id: &'a str,
        call: impl Future<Output = Result<R, E>> + 'a,
    ) -> impl Future<Output = Result<R, E>> + 'a
    where
        E: AuditedError,
    {
        let call = Box::pin(call);
        async move {
            let watched = audit::watching(call).await;
            if let Err(error) = &watched.outcome
                && !watched.recorded
            {
                // Under what the call found (an invitation its token opened),
                // if it got that far, else what it was asked about.
                let subject = audit::Subject {
                    resource: watched.named.as_deref().unwrap_or(resource),
                    request_id: if twotier_platform::validate::request_id(request_id).is_ok() {
                        request_id
                    } else {
                        ""
                    },
                    opened: watched.named.is_some(),
                };
                audit::record_refusal(self.db(), &subject, error).await;
            }
            watched.outcome
        }
    }
}
