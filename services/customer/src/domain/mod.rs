//! The rules of R9-R13 and the operations that apply them, one transaction
//! per command with its events in the same transaction.

mod agreement;
mod convert;
mod customer;
mod error;
mod password;

use twotier_outbox::Outbox;
use twotier_partners::PartnerDirectory;

pub use agreement::AgreementFields;
pub use customer::NewCustomer;
pub use error::CustomerError;

/// Result of a customer-domain operation.
pub type Result<T> = std::result::Result<T, CustomerError>;

/// Who is looking at customers.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// A provider user: sees its own tenant's customers.
    Provider(String),
    /// A reseller admin: sees the customers delegated to its PartnerID.
    Reseller(String),
}

/// The customer domain.
#[derive(Clone)]
pub struct Customers {
    outbox: Outbox,
    directory: PartnerDirectory,
}

impl Customers {
    /// The domain over `outbox`'s database, with its partner projection.
    pub fn new(outbox: Outbox, directory: PartnerDirectory) -> Self {
        Self { outbox, directory }
    }

    /// The partner projection.
    pub fn directory(&self) -> &PartnerDirectory {
        &self.directory
    }
}
