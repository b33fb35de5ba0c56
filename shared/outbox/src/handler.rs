//! What a consuming service implements to react to an upstream log.

use sea_orm::{DatabaseTransaction, DbErr};
use twotier_proto::events::EventEnvelope;

/// Why an event could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The database failed. When it is unreachable the consumer waits and
    /// retries without counting attempts; other database errors count.
    #[error("database: {0}")]
    Database(#[from] DbErr),
    /// The handler refused the event (bad payload, broken invariant). Counts
    /// as a failed attempt; after the last one the event is dead-lettered.
    #[error("{0}")]
    Rejected(String),
}

impl HandleError {
    /// Whether the failure is the infrastructure's, not the event's.
    pub fn is_transient(&self) -> bool {
        matches!(self, HandleError::Database(error) if twotier_platform::db::is_connection_error(error))
    }

    /// Whether trying again later may succeed: an outage, or a statement
    /// the database cut off (a timeout). Only an outage leaves the
    /// attempts uncounted.
    pub fn is_worth_retrying(&self) -> bool {
        matches!(self, HandleError::Database(error) if twotier_platform::db::is_retryable(error))
    }
}

/// Applies the effects of upstream events.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Full protobuf names of the event types to receive; the log server
    /// filters out the rest.
    fn event_types(&self) -> Vec<String>;

    /// Whether `event` (of a type in [`EventHandler::event_types`]) can
    /// change anything here. One that cannot is passed without opening a
    /// transaction, like an event of a type not handled: under load most
    /// events of a type may be of no concern (a customer created without a
    /// reseller emails no one).
    fn affects(&self, _event: &EventEnvelope) -> bool {
        true
    }

    /// Applies the effects of `event` inside `txn`. The consumer commits
    /// `txn` together with its cursor, so the effects happen exactly once
    /// even though an event may be delivered more than once.
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError>;
}
