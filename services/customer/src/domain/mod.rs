//! The rules of R9-R13 as plain Rust: customers and who may see them,
//! delegated administration, the customer agreement, the administrator's
//! temporary password.

mod agreement;
mod customer;
mod delegated_admin;
mod error;
mod password;

pub use agreement::{Attestation, CustomerAgreement, date_agreed};
pub use customer::{
    Address, Contact, Created, Customer, NewCustomer, Reseller, Viewer, domain_prefix,
    initial_domain,
};
pub use delegated_admin::{DelegatedAdmin, Scope};
pub use error::{AgreementError, CustomerError};
pub use password::AdminCredentials;
