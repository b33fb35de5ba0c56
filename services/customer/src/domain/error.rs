//! Everything that can go wrong in the customer domain, each with its code
//! and stable reason.

use twotier_platform::{ErrorCode, ServiceError};

/// Why a customer cannot be added, read or listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    /// Not a domain prefix ([`super::domain_prefix`]).
    #[error("must be 3 to 27 letters and digits")]
    MalformedDomainPrefix,
    /// Another customer has the domain prefix.
    #[error("{0}.onmicrosoft.com is taken; choose another domain prefix")]
    DomainPrefixTaken(String),
    /// R9: the reseller is not an active partner of the provider.
    #[error("reseller {0} is not an active partner of yours")]
    ResellerNotPartner(String),
    /// No such customer for this caller.
    #[error("no such customer")]
    CustomerNotFound,
    /// The reseller named is not the caller's.
    #[error("no such reseller")]
    ResellerNotFound,
}

impl ServiceError for CustomerError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::MalformedDomainPrefix => ErrorCode::InvalidArgument {
                field: "domain_prefix",
            },
            Self::DomainPrefixTaken(_) => ErrorCode::AlreadyExists,
            Self::ResellerNotPartner(_) => ErrorCode::FailedPrecondition,
            Self::CustomerNotFound | Self::ResellerNotFound => ErrorCode::NotFound,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::MalformedDomainPrefix => "INVALID_DOMAIN_PREFIX",
            Self::DomainPrefixTaken(_) => "DOMAIN_PREFIX_TAKEN",
            Self::ResellerNotPartner(_) => "RESELLER_NOT_PARTNER",
            Self::CustomerNotFound => "CUSTOMER_NOT_FOUND",
            Self::ResellerNotFound => "RESELLER_NOT_FOUND",
        }
    }
}

/// Why a customer agreement cannot be recorded or read (R12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    /// The date agreed is not a `YYYY-MM-DD` date.
    #[error("must be a date like 2026-11-25")]
    MalformedDate,
    /// The date agreed lies in the future.
    #[error("must not be in the future")]
    DateInFuture,
    /// No customer agreement is recorded yet.
    #[error("no customer agreement is recorded for this customer")]
    NotRecorded,
}

impl ServiceError for AgreementError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::MalformedDate | Self::DateInFuture => ErrorCode::InvalidArgument {
                field: "customer_agreement.date_agreed",
            },
            Self::NotRecorded => ErrorCode::NotFound,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::MalformedDate | Self::DateInFuture => "INVALID_CUSTOMER_AGREEMENT",
            Self::NotRecorded => "CUSTOMER_AGREEMENT_NOT_FOUND",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_keeps_its_code_and_reason() {
        let customer = [
            (
                CustomerError::MalformedDomainPrefix,
                ErrorCode::InvalidArgument {
                    field: "domain_prefix",
                },
                "INVALID_DOMAIN_PREFIX",
            ),
            (
                CustomerError::DomainPrefixTaken("adatum".into()),
                ErrorCode::AlreadyExists,
                "DOMAIN_PREFIX_TAKEN",
            ),
            (
                CustomerError::ResellerNotPartner("4567890".into()),
                ErrorCode::FailedPrecondition,
                "RESELLER_NOT_PARTNER",
            ),
            (
                CustomerError::CustomerNotFound,
                ErrorCode::NotFound,
                "CUSTOMER_NOT_FOUND",
            ),
            (
                CustomerError::ResellerNotFound,
                ErrorCode::NotFound,
                "RESELLER_NOT_FOUND",
            ),
        ];
        for (error, code, reason) in customer {
            assert_eq!((error.error_code(), error.reason()), (code, reason));
        }
        let agreement = [
            (AgreementError::MalformedDate, "INVALID_CUSTOMER_AGREEMENT"),
            (AgreementError::DateInFuture, "INVALID_CUSTOMER_AGREEMENT"),
            (AgreementError::NotRecorded, "CUSTOMER_AGREEMENT_NOT_FOUND"),
        ];
        for (error, reason) in agreement {
            assert_eq!(error.reason(), reason);
        }
        assert_eq!(
            AgreementError::NotRecorded.error_code(),
            ErrorCode::NotFound
        );
    }
}
