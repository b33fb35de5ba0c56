//! R3, the one definition every service uses: whether a reseller may be
//! chosen (named as reseller of record, support contact, a customer's
//! reseller, a partner), and the same failure, code and reason wherever it
//! is chosen (R24). The partnership service decides it from its own
//! reseller records; the other services decide it from their projection or
//! read it back from the partnership service's answer.

use twotier_platform::{ErrorCode, ServiceError, validate};

/// The kind of a reseller's partner account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A location account: the one that transacts.
    Location,
    /// A global (headquarters) account: not eligible.
    Global,
}

/// Why a reseller may not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    /// Not a PartnerID at all.
    #[error("must be a PartnerID of 6 to 10 digits")]
    Malformed,
    /// Nobody with that PartnerID is onboarded.
    #[error("PartnerID {0} is not known")]
    Unknown(String),
    /// A global account's PartnerID.
    #[error(
        "PartnerID {0} belongs to a global account; use the PartnerID of the reseller's location account"
    )]
    GlobalAccount(String),
    /// The Microsoft Partner Agreement is not active.
    #[error("the Microsoft Partner Agreement of PartnerID {0} is not active")]
    MpaInactive(String),
}

/// The `ErrorInfo.reason`s of [`Ineligible`], for services that read them
/// back from another service's answer.
pub mod reason {
    /// [`super::Ineligible::Malformed`].
    pub const MALFORMED: &str = "PARTNER_ID_MALFORMED";
    /// [`super::Ineligible::Unknown`].
    pub const UNKNOWN: &str = "PARTNER_ID_NOT_FOUND";
    /// [`super::Ineligible::GlobalAccount`].
    pub const GLOBAL_ACCOUNT: &str = "PARTNER_ID_NOT_LOCATION_ACCOUNT";
    /// [`super::Ineligible::MpaInactive`].
    pub const MPA_INACTIVE: &str = "PARTNER_MPA_NOT_ACTIVE";
}

impl Ineligible {
    /// The failure another service reported with `reason` about
    /// `partner_id`, if `reason` is one of R3's.
    pub fn from_reason(reason: &str, partner_id: &str) -> Option<Self> {
        let partner_id = partner_id.to_owned();
        match reason {
            reason::MALFORMED => Some(Self::Malformed),
            reason::UNKNOWN => Some(Self::Unknown(partner_id)),
            reason::GLOBAL_ACCOUNT => Some(Self::GlobalAccount(partner_id)),
            reason::MPA_INACTIVE => Some(Self::MpaInactive(partner_id)),
            _ => None,
        }
    }
}

impl ServiceError for Ineligible {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Malformed => ErrorCode::InvalidArgument {
                field: "partner_id",
            },
            Self::Unknown(_) => ErrorCode::NotFound,
            Self::GlobalAccount(_) | Self::MpaInactive(_) => ErrorCode::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Malformed => reason::MALFORMED,
            Self::Unknown(_) => reason::UNKNOWN,
            Self::GlobalAccount(_) => reason::GLOBAL_ACCOUNT,
            Self::MpaInactive(_) => reason::MPA_INACTIVE,
        }
    }
}

/// R3's first question, asked before anyone is looked up: is `partner_id`
/// a PartnerID at all?
pub fn well_formed(partner_id: &str) -> Result<(), Ineligible> {
    validate::partner_id(partner_id).map_err(|_| Ineligible::Malformed)
}

/// R24: R3's failure about the reseller a request names in `field`. It is
/// answered with the code and reason `VerifyPartnerId` gives the same
/// PartnerID; a malformed one names the request's own field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ineligible}")]
pub struct IneligibleChoice {
    /// The request field that names the reseller.
    pub field: &'static str,
    /// R3's failure.
    pub ineligible: Ineligible,
}

impl Ineligible {
    /// This failure about the reseller named in `field` of a request.
    pub fn chosen_in(self, field: &'static str) -> IneligibleChoice {
        IneligibleChoice {
            field,
            ineligible: self,
        }
    }
}

impl ServiceError for IneligibleChoice {
    fn error_code(&self) -> ErrorCode {
        match self.ineligible {
            Ineligible::Malformed => ErrorCode::InvalidArgument { field: self.field },
            ref other => other.error_code(),
        }
    }

    fn reason(&self) -> &'static str {
        self.ineligible.reason()
    }
}

/// R3 for an onboarded reseller: a location account with an active MPA.
pub fn check(partner_id: &str, kind: AccountKind, mpa_active: bool) -> Result<(), Ineligible> {
    if kind == AccountKind::Global {
        return Err(Ineligible::GlobalAccount(partner_id.to_owned()));
    }
    if !mpa_active {
        return Err(Ineligible::MpaInactive(partner_id.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_location_accounts_with_an_active_mpa_are_eligible() {
        assert_eq!(check("1234567", AccountKind::Location, true), Ok(()));
        assert_eq!(
            check("1234567", AccountKind::Global, true),
            Err(Ineligible::GlobalAccount("1234567".into()))
        );
        assert_eq!(
            check("1234567", AccountKind::Location, false),
            Err(Ineligible::MpaInactive("1234567".into()))
        );
        // A global account fails as global even with a lapsed MPA.
        assert_eq!(
            check("1234567", AccountKind::Global, false),
            Err(Ineligible::GlobalAccount("1234567".into()))
        );
    }

    #[test]
    fn reasons_read_back_into_the_same_failure() {
        for failure in [
            Ineligible::Malformed,
            Ineligible::Unknown("1".into()),
            Ineligible::GlobalAccount("1".into()),
            Ineligible::MpaInactive("1".into()),
        ] {
            assert_eq!(
                Ineligible::from_reason(failure.reason(), "1"),
                Some(failure)
            );
        }
        assert_eq!(Ineligible::from_reason("SOMETHING_ELSE", "1"), None);
    }

    /// R24
    #[test]
    fn a_failure_chosen_in_a_field_keeps_r3s_code_and_reason_and_names_the_field() {
        assert_eq!(well_formed("1234567"), Ok(()));
        assert_eq!(well_formed("12-34"), Err(Ineligible::Malformed));
        let malformed = Ineligible::Malformed.chosen_in("reseller_partner_id");
        assert_eq!(
            malformed.error_code(),
            ErrorCode::InvalidArgument {
                field: "reseller_partner_id"
            }
        );
        assert_eq!(malformed.reason(), reason::MALFORMED);
        assert_eq!(malformed.to_string(), Ineligible::Malformed.to_string());
        for failure in [
            Ineligible::Unknown("1".into()),
            Ineligible::GlobalAccount("1".into()),
            Ineligible::MpaInactive("1".into()),
        ] {
            let chosen = failure.clone().chosen_in("support_contact_partner_id");
            assert_eq!(chosen.error_code(), failure.error_code());
            assert_eq!(chosen.reason(), failure.reason());
            assert_eq!(chosen.to_string(), failure.to_string());
        }
    }
}
