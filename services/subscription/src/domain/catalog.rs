//! R14: offers of the catalog and what they allow a line or a subscription.

use super::OfferError;

/// How long a subscription commits to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Term {
    /// A month at a time.
    Monthly,
    /// A year.
    Annual,
}

/// How often a subscription is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingCycle {
    /// Every month.
    Monthly,
    /// Once a year.
    Annual,
}

/// One offer of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Offer id, e.g. `m365-business-basic`.
    pub id: String,
    /// Product name.
    pub display_name: String,
    /// Short description.
    pub description: String,
    /// Fewest licences.
    pub min_licenses: i32,
    /// Most licences.
    pub max_licenses: i32,
    /// Terms it is sold with.
    pub terms: Vec<Term>,
    /// Billing cycles it is sold with.
    pub billing_cycles: Vec<BillingCycle>,
}

impl Offer {
    /// Refuses a quantity outside the offer's limits, naming `field`.
    pub fn check_quantity(&self, quantity: i32, field: &'static str) -> Result<(), OfferError> {
        if (self.min_licenses..=self.max_licenses).contains(&quantity) {
            return Ok(());
        }
        Err(OfferError::QuantityOutOfRange {
            field,
            min: self.min_licenses,
            max: self.max_licenses,
        })
    }

    /// The term and billing cycle of a line that may leave either to the
    /// offer (R15 names only offer, quantity and reseller): a term left open
    /// is the offer's first that the given cycle can bill, a cycle left open
    /// its first that can bill the term (a monthly term is not billed
    /// annually). What is given is kept
    /// as given, for [`Self::check_terms`] to judge.
    pub fn terms_for(
        &self,
        term: Option<Term>,
        cycle: Option<BillingCycle>,
    ) -> (Term, BillingCycle) {
        // A cycle given alone picks the first term it can bill.
        let billable = |term: &Term| cycle != Some(BillingCycle::Annual) || *term == Term::Annual;
        let term = term
            .or_else(|| self.terms.iter().copied().find(billable))
            .or_else(|| self.terms.first().copied())
            .unwrap_or(Term::Monthly);
        let cycle = cycle
            .or_else(|| {
                self.billing_cycles
                    .iter()
                    .copied()
                    .find(|cycle| !(term == Term::Monthly && *cycle == BillingCycle::Annual))
            })
            .unwrap_or(BillingCycle::Monthly);
        (term, cycle)
    }

    /// Refuses a term or billing cycle the offer is not sold with, and an
    /// annual bill for a monthly term.
    pub fn check_terms(&self, term: Term, cycle: BillingCycle) -> Result<(), OfferError> {
        if !self.terms.contains(&term) {
            return Err(OfferError::TermNotOffered);
        }
        if !self.billing_cycles.contains(&cycle)
            || (term == Term::Monthly && cycle == BillingCycle::Annual)
        {
            return Err(OfferError::BillingCycleNotOffered);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An offer for tests: `min..=max` licences, both terms and cycles.
    pub(crate) fn offer(id: &str, min: i32, max: i32) -> Offer {
        Offer {
            id: id.into(),
            display_name: format!("Offer {id}"),
            description: String::new(),
            min_licenses: min,
            max_licenses: max,
            terms: vec![Term::Monthly, Term::Annual],
            billing_cycles: vec![BillingCycle::Monthly, BillingCycle::Annual],
        }
    }

    #[test]
    fn quantities_are_allowed_within_the_limits_inclusive() {
        let basic = offer("basic", 1, 300);
        for allowed in [1, 2, 299, 300] {
            assert_eq!(basic.check_quantity(allowed, "quantity"), Ok(()));
        }
        for refused in [i32::MIN, -1, 0, 301, i32::MAX] {
            assert_eq!(
                basic.check_quantity(refused, "quantity"),
                Err(OfferError::QuantityOutOfRange {
                    field: "quantity",
                    min: 1,
                    max: 300
                })
            );
        }
    }

    #[test]
    fn a_term_must_be_offered_and_a_monthly_term_is_billed_monthly() {
        let both = offer("basic", 1, 300);
        assert_eq!(
            both.check_terms(Term::Annual, BillingCycle::Monthly),
            Ok(())
        );
        assert_eq!(both.check_terms(Term::Annual, BillingCycle::Annual), Ok(()));
        assert_eq!(
            both.check_terms(Term::Monthly, BillingCycle::Monthly),
            Ok(())
        );
        assert_eq!(
            both.check_terms(Term::Monthly, BillingCycle::Annual),
            Err(OfferError::BillingCycleNotOffered)
        );
        let azure = Offer {
            terms: vec![Term::Monthly],
            billing_cycles: vec![BillingCycle::Monthly],
            ..offer("azure-plan", 1, 1)
        };
        assert_eq!(
            azure.check_terms(Term::Annual, BillingCycle::Monthly),
            Err(OfferError::TermNotOffered)
        );
        let annual_billing_only = Offer {
            billing_cycles: vec![BillingCycle::Annual],
            ..offer("x", 1, 1)
        };
        assert_eq!(
            annual_billing_only.check_terms(Term::Annual, BillingCycle::Monthly),
            Err(OfferError::BillingCycleNotOffered)
        );
    }

    #[test]
    fn what_a_line_leaves_open_is_the_offers_first_that_it_sells() {
        let both = offer("basic", 1, 300);
        assert_eq!(
            both.terms_for(None, None),
            (Term::Monthly, BillingCycle::Monthly)
        );
        assert_eq!(
            both.terms_for(Some(Term::Annual), None),
            (Term::Annual, BillingCycle::Monthly)
        );
        let annual_only = Offer {
            terms: vec![Term::Annual],
            billing_cycles: vec![BillingCycle::Annual],
            ..offer("x", 1, 1)
        };
        let (term, cycle) = annual_only.terms_for(None, None);
        assert_eq!((term, cycle), (Term::Annual, BillingCycle::Annual));
        assert_eq!(annual_only.check_terms(term, cycle), Ok(()));
        assert_eq!(
            both.terms_for(None, Some(BillingCycle::Annual)),
            (Term::Annual, BillingCycle::Annual),
            "annual billing alone picks the term it can bill"
        );
        // What is given stays, for check_terms to refuse.
        assert_eq!(
            annual_only.terms_for(Some(Term::Monthly), None).0,
            Term::Monthly
        );
    }
}
