//! Everything that can go wrong in the customer domain, each with its
//! stable reason.

use twotier_platform::Error;

/// A customer-domain failure.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    /// Another customer has the domain prefix.
    #[error("{0}.onmicrosoft.com is taken; choose another domain prefix")]
    DomainPrefixTaken(String),
    /// R9: the reseller is not an active partner of the provider.
    #[error("reseller {0} is not an active partner of yours")]
    ResellerNotPartner(String),
    /// No such customer for this caller.
    #[error("no such customer")]
    CustomerNotFound,
    /// No customer agreement is recorded yet.
    #[error("no customer agreement is recorded for this customer")]
    AgreementNotFound,
    /// The reseller named is not the caller's.
    #[error("no such reseller")]
    ResellerNotFound,
    /// Validation, permissions and the database.
    #[error(transparent)]
    Platform(#[from] Error),
}

impl From<sea_orm::DbErr> for CustomerError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Platform(error.into())
    }
}

impl From<CustomerError> for Error {
    fn from(error: CustomerError) -> Self {
        let message = error.to_string();
        match error {
            CustomerError::DomainPrefixTaken(_) => Error::AlreadyExists {
                reason: "DOMAIN_PREFIX_TAKEN",
                message,
            },
            CustomerError::ResellerNotPartner(_) => Error::FailedPrecondition {
                reason: "RESELLER_NOT_PARTNER",
                message,
            },
            CustomerError::CustomerNotFound => Error::NotFound {
                reason: "CUSTOMER_NOT_FOUND",
                message,
            },
            CustomerError::AgreementNotFound => Error::NotFound {
                reason: "CUSTOMER_AGREEMENT_NOT_FOUND",
                message,
            },
            CustomerError::ResellerNotFound => Error::NotFound {
                reason: "RESELLER_NOT_FOUND",
                message,
            },
            CustomerError::Platform(inner) => inner,
        }
    }
}
