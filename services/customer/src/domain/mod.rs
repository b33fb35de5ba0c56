//! The rules of R9-R13 and R22-R23 as plain Rust: customers and who may
//! see them, delegated administration and the customer admin's consent to
//! it, the customer agreement, the administrator's
//! temporary password.

mod agreement;
mod customer;
mod delegated_admin;
mod email_draft;
mod error;
mod password;
pub mod relationship_request;

pub use agreement::{Attestation, CustomerAgreement, date_agreed};
pub use customer::{
    Address, Contact, Created, Customer, NewCustomer, Reseller, Viewer, domain_prefix,
    initial_domain,
};
pub use delegated_admin::{DelegatedAdmin, Scope};
pub use email_draft::{DraftError, RelationshipDrafts};
pub use error::{AgreementError, CustomerError, RelationshipError};
pub use password::AdminCredentials;
pub use relationship_request::{
    Accepted, NewRelationshipRequest, RelationshipRequest, RequestState,
};
pub use twotier_platform::personal_link::PersonalLink;
