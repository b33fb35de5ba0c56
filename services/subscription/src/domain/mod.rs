//! The rules of R14-R19 and the operations that apply them, one transaction
//! per command with its events in the same transaction. Preconditions owned
//! by other services are read fresh before the transaction starts.

mod cart;
mod catalog;
mod checkout;
mod convert;
mod dependencies;
mod error;
mod subscription;

use twotier_outbox::Outbox;
use twotier_partners::PartnerDirectory;

pub use cart::{LineInput, MAX_LINE_ITEMS};
pub use dependencies::Dependencies;
pub use error::SubscriptionError;

/// Result of a subscription-domain operation.
pub type Result<T> = std::result::Result<T, SubscriptionError>;

/// The subscription domain.
#[derive(Clone)]
pub struct Subscriptions {
    outbox: Outbox,
    directory: PartnerDirectory,
    dependencies: Dependencies,
}

impl Subscriptions {
    /// The domain over `outbox`'s database, its partner projection and its
    /// upstream services.
    pub fn new(outbox: Outbox, directory: PartnerDirectory, dependencies: Dependencies) -> Self {
        Self {
            outbox,
            directory,
            dependencies,
        }
    }
}
