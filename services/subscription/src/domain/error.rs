//! Everything the subscription rules refuse, each with its code and stable
//! reason. The messages are what callers read, so they stay as they were.

use chrono::{DateTime, SecondsFormat, Utc};
use twotier_platform::{ErrorCode, ServiceError};

/// R14: what the catalog refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// `GetOffer` of an offer the catalog does not have.
    #[error("no offer {0}")]
    NotFound(String),
    /// A line or subscription names an offer the catalog does not have.
    #[error("is not an offer of the catalog")]
    Unknown {
        /// The field that names it.
        field: &'static str,
    },
    /// A quantity outside the offer's limits.
    #[error("must be between {min} and {max} for this offer")]
    QuantityOutOfRange {
        /// The offending field.
        field: &'static str,
        /// The offer's minimum.
        min: i32,
        /// The offer's maximum.
        max: i32,
    },
    /// The offer is not sold with this term.
    #[error("is not offered for this offer")]
    TermNotOffered,
    /// The offer is not billed this way, or not for this term.
    #[error("is not offered for this offer and term")]
    BillingCycleNotOffered,
}

impl ServiceError for OfferError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Unknown { field } | Self::QuantityOutOfRange { field, .. } => {
                ErrorCode::InvalidArgument { field }
            }
            Self::TermNotOffered => ErrorCode::InvalidArgument {
                field: "line_item.term",
            },
            Self::BillingCycleNotOffered => ErrorCode::InvalidArgument {
                field: "line_item.billing_cycle",
            },
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "OFFER_NOT_FOUND",
            Self::Unknown { .. } => "UNKNOWN_OFFER",
            Self::QuantityOutOfRange { .. } => "QUANTITY_OUT_OF_RANGE",
            Self::TermNotOffered => "TERM_NOT_OFFERED",
            Self::BillingCycleNotOffered => "BILLING_CYCLE_NOT_OFFERED",
        }
    }
}

/// R15: what a cart refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// No such cart for this caller.
    #[error("no such cart")]
    NotFound,
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
    Empty,
    /// The cart was checked out already.
    #[error("the cart was checked out already")]
    AlreadyOrdered,
    /// The cart was cancelled.
    #[error("the cart was cancelled")]
    Cancelled,
    /// Checkout without the indirect-provider attestation.
    #[error("confirm that you act as indirect provider before checkout")]
    NotAttested,
    /// R12: no customer agreement recorded.
    #[error(
        "the customer has not accepted the Microsoft Customer Agreement; record it before purchasing"
    )]
    CustomerAgreementMissing,
    /// The cart changed since the caller (or the review) read it.
    #[error("the cart was changed by someone else; read it again and retry")]
    Stale,
    /// A line that its offer refuses.
    #[error(transparent)]
    Offer(#[from] OfferError),
}

impl ServiceError for CartError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound | Self::LineItemNotFound(_) => ErrorCode::NotFound,
            Self::TooManyLineItems { .. }
            | Self::Empty
            | Self::AlreadyOrdered
            | Self::Cancelled
            | Self::NotAttested
            | Self::CustomerAgreementMissing => ErrorCode::FailedPrecondition,
            Self::Stale => ErrorCode::Aborted,
            Self::Offer(offer) => offer.error_code(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "CART_NOT_FOUND",
            Self::LineItemNotFound(_) => "LINE_ITEM_NOT_FOUND",
            Self::TooManyLineItems { .. } => "TOO_MANY_LINE_ITEMS",
            Self::Empty => "CART_EMPTY",
            Self::AlreadyOrdered => "CART_ALREADY_ORDERED",
            Self::Cancelled => "CART_CANCELLED",
            Self::NotAttested => "INDIRECT_PROVIDER_NOT_ATTESTED",
            Self::CustomerAgreementMissing => "CUSTOMER_AGREEMENT_MISSING",
            Self::Stale => "ETAG_MISMATCH",
            Self::Offer(offer) => offer.reason(),
        }
    }
}

/// What reading an order refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// No such order for this caller.
    #[error("no such order")]
    NotFound,
}

impl ServiceError for OrderError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::NotFound
    }

    fn reason(&self) -> &'static str {
        "ORDER_NOT_FOUND"
    }
}

/// R16-R19, R26-R28: what a subscription refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// No such subscription for this caller.
    #[error("no such subscription")]
    NotFound,
    /// The subscription changed since the caller read it.
    #[error("the subscription was changed by someone else; read it again and retry")]
    Stale,
    /// R19: the support contact must be an active partner.
    #[error("reseller {0} is not an active partner of yours and cannot be the support contact")]
    SupportContactNotPartner(String),
    /// R26: a suspended subscription keeps its quantity and reseller of
    /// record.
    #[error("the subscription is suspended; reactivate it before changing its {what}")]
    Suspended {
        /// What the caller tried to change.
        what: &'static str,
    },
    /// R27: a cancelled subscription changes no more.
    #[error("the subscription is cancelled and cannot be changed")]
    Cancelled,
    /// R27: cancelling after the window.
    #[error("the cancellation window closed at {}; the subscription can no longer be cancelled", rfc3339(.deadline))]
    CancellationWindowClosed {
        /// When it closed.
        deadline: DateTime<Utc>,
    },
    /// R27: decreasing the quantity after the window.
    #[error("the cancellation window closed at {}; the licence quantity can only be increased now", rfc3339(.deadline))]
    QuantityDecreaseWindowClosed {
        /// When it closed.
        deadline: DateTime<Utc>,
    },
    /// A quantity its offer refuses.
    #[error(transparent)]
    Offer(#[from] OfferError),
}

fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl ServiceError for SubscriptionError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Stale => ErrorCode::Aborted,
            Self::SupportContactNotPartner(_)
            | Self::Suspended { .. }
            | Self::Cancelled
            | Self::CancellationWindowClosed { .. }
            | Self::QuantityDecreaseWindowClosed { .. } => ErrorCode::FailedPrecondition,
            Self::Offer(offer) => offer.error_code(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "SUBSCRIPTION_NOT_FOUND",
            Self::Stale => "ETAG_MISMATCH",
            Self::SupportContactNotPartner(_) => "SUPPORT_CONTACT_NOT_PARTNER",
            Self::Suspended { .. } => "SUBSCRIPTION_SUSPENDED",
            Self::Cancelled => "SUBSCRIPTION_CANCELLED",
            Self::CancellationWindowClosed { .. } => "CANCELLATION_WINDOW_CLOSED",
            Self::QuantityDecreaseWindowClosed { .. } => "QUANTITY_DECREASE_WINDOW_CLOSED",
            Self::Offer(offer) => offer.reason(),
        }
    }
}

/// What the other services answer about the parties a purchase names: the
/// customer (customer service) and resellers (partnership service). A
/// reseller that fails R3 is refused with R3's own failure
/// (`twotier_partners::eligibility::IneligibleChoice`), the same code and
/// reason as `VerifyPartnerId` (R24); these are the rest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyError {
    /// The customer does not exist for this caller.
    #[error("no such customer")]
    CustomerNotFound,
    /// The partnership service refused a reseller without naming one of
    /// R3's failures.
    #[error("reseller {partner_id}: {message}")]
    ResellerRejected {
        /// The PartnerID.
        partner_id: String,
        /// The partnership service's message.
        message: String,
    },
}

impl ServiceError for PartyError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::CustomerNotFound => ErrorCode::NotFound,
            Self::ResellerRejected { .. } => ErrorCode::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::CustomerNotFound => "CUSTOMER_NOT_FOUND",
            Self::ResellerRejected { .. } => "RESELLER_OF_RECORD_INVALID",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_out_of_range_names_its_field_and_the_limits() {
        let error = CartError::from(OfferError::QuantityOutOfRange {
            field: "line_item.quantity",
            min: 1,
            max: 300,
        });
        assert_eq!(error.reason(), "QUANTITY_OUT_OF_RANGE");
        assert_eq!(
            error.error_code(),
            ErrorCode::InvalidArgument {
                field: "line_item.quantity"
            }
        );
        assert_eq!(
            error.to_string(),
            "must be between 1 and 300 for this offer"
        );
    }

    #[test]
    fn stale_carts_and_subscriptions_are_aborted_etag_mismatches() {
        assert_eq!(CartError::Stale.reason(), "ETAG_MISMATCH");
        assert_eq!(CartError::Stale.error_code(), ErrorCode::Aborted);
        assert_eq!(SubscriptionError::Stale.reason(), "ETAG_MISMATCH");
        assert_eq!(SubscriptionError::Stale.error_code(), ErrorCode::Aborted);
    }

    #[test]
    fn lifecycle_refusals_are_failed_preconditions_with_the_deadline_in_the_message() {
        let deadline = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let closed = SubscriptionError::CancellationWindowClosed { deadline };
        assert_eq!(closed.reason(), "CANCELLATION_WINDOW_CLOSED");
        assert_eq!(closed.error_code(), ErrorCode::FailedPrecondition);
        assert!(closed.to_string().contains("2026-12-02T10:00:00Z"));
        let decrease = SubscriptionError::QuantityDecreaseWindowClosed { deadline };
        assert_eq!(decrease.reason(), "QUANTITY_DECREASE_WINDOW_CLOSED");
        assert!(decrease.to_string().contains("2026-12-02T10:00:00Z"));
        let suspended = SubscriptionError::Suspended {
            what: "licence quantity",
        };
        assert_eq!(suspended.reason(), "SUBSCRIPTION_SUSPENDED");
        assert!(suspended.to_string().contains("licence quantity"));
        assert_eq!(
            SubscriptionError::Cancelled.reason(),
            "SUBSCRIPTION_CANCELLED"
        );
    }

    #[test]
    fn a_refusal_without_an_r3_reason_is_a_failed_precondition_of_its_own() {
        let error = PartyError::ResellerRejected {
            partner_id: "1234567".into(),
            message: "upstream says no".into(),
        };
        assert_eq!(error.reason(), "RESELLER_OF_RECORD_INVALID");
        assert_eq!(error.error_code(), ErrorCode::FailedPrecondition);
        assert_eq!(error.to_string(), "reseller 1234567: upstream says no");
    }
}
