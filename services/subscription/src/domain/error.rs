//! Everything that can go wrong in the subscription domain, each with its
//! stable reason.

use twotier_platform::Error;

/// A subscription-domain failure.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    /// No such offer.
    #[error("no offer {0}")]
    OfferNotFound(String),
    /// The customer does not exist for this caller.
    #[error("no such customer")]
    CustomerNotFound,
    /// R12: no customer agreement recorded.
    #[error(
        "the customer has not accepted the Microsoft Customer Agreement; record it before purchasing"
    )]
    CustomerAgreementMissing,
    /// No such cart for this caller.
    #[error("no such cart")]
    CartNotFound,
    /// No such line in the cart.
    #[error("no line item {0} in this cart")]
    LineItemNotFound(String),
    /// The cart holds as many lines as a cart may.
    #[error("the cart has {max} line items, the most a cart may hold; remove one or check out")]
    TooManyLineItems {
        /// The most a cart may hold.
        max: usize,
    },
    /// Checkout of an empty cart.
    #[error("the cart is empty")]
    CartEmpty,
    /// The cart was checked out already.
    #[error("the cart was checked out already")]
    CartAlreadyOrdered,
    /// The cart was cancelled.
    #[error("the cart was cancelled")]
    CartCancelled,
    /// Checkout without the indirect-provider attestation.
    #[error("confirm that you act as indirect provider before checkout")]
    IndirectProviderNotAttested,
    /// R3 failed for a reseller of record.
    #[error("reseller of record {partner_id}: {message}")]
    ResellerOfRecordRejected {
        /// The PartnerID.
        partner_id: String,
        /// The partnership service's reason.
        reason: &'static str,
        /// Its message.
        message: String,
    },
    /// R19: the support contact must be an active partner.
    #[error("reseller {0} is not an active partner of yours and cannot be the support contact")]
    SupportContactNotPartner(String),
    /// No such order for this caller.
    #[error("no such order")]
    OrderNotFound,
    /// No such subscription for this caller.
    #[error("no such subscription")]
    SubscriptionNotFound,
    /// A quantity outside the offer's limits.
    #[error("{field}: must be between {min} and {max} for this offer")]
    QuantityOutOfRange {
        /// The offending field.
        field: &'static str,
        /// The offer's minimum.
        min: i32,
        /// The offer's maximum.
        max: i32,
    },
    /// A stale etag.
    #[error("stale etag")]
    StaleEtag(&'static str),
    /// Validation, permissions, dependencies and the database.
    #[error(transparent)]
    Platform(#[from] Error),
}

impl From<sea_orm::DbErr> for SubscriptionError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Platform(error.into())
    }
}

impl From<SubscriptionError> for Error {
    fn from(error: SubscriptionError) -> Self {
        let message = error.to_string();
        let not_found = |reason| Error::NotFound {
            reason,
            message: message.clone(),
        };
        let precondition = |reason| Error::FailedPrecondition {
            reason,
            message: message.clone(),
        };
        match error {
            SubscriptionError::OfferNotFound(_) => not_found("OFFER_NOT_FOUND"),
            SubscriptionError::CustomerNotFound => not_found("CUSTOMER_NOT_FOUND"),
            SubscriptionError::CustomerAgreementMissing => {
                precondition("CUSTOMER_AGREEMENT_MISSING")
            }
            SubscriptionError::CartNotFound => not_found("CART_NOT_FOUND"),
            SubscriptionError::LineItemNotFound(_) => not_found("LINE_ITEM_NOT_FOUND"),
            SubscriptionError::CartEmpty => precondition("CART_EMPTY"),
            SubscriptionError::TooManyLineItems { .. } => precondition("TOO_MANY_LINE_ITEMS"),
            SubscriptionError::CartAlreadyOrdered => precondition("CART_ALREADY_ORDERED"),
            SubscriptionError::CartCancelled => precondition("CART_CANCELLED"),
            SubscriptionError::IndirectProviderNotAttested => {
                precondition("INDIRECT_PROVIDER_NOT_ATTESTED")
            }
            SubscriptionError::ResellerOfRecordRejected { reason, .. } => precondition(reason),
            SubscriptionError::SupportContactNotPartner(_) => {
                precondition("SUPPORT_CONTACT_NOT_PARTNER")
            }
            SubscriptionError::OrderNotFound => not_found("ORDER_NOT_FOUND"),
            SubscriptionError::SubscriptionNotFound => not_found("SUBSCRIPTION_NOT_FOUND"),
            SubscriptionError::QuantityOutOfRange { field, min, max } => Error::invalid_field(
                "QUANTITY_OUT_OF_RANGE",
                field,
                format!("must be between {min} and {max} for this offer"),
            ),
            SubscriptionError::StaleEtag(resource) => Error::etag_mismatch(resource),
            SubscriptionError::Platform(inner) => inner,
        }
    }
}
