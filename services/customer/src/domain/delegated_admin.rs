//! R9: a delegated admin relationship, the administration of a customer a
//! provider hands to the reseller it chose. Partnership removal (R7) leaves
//! it as it is.

use chrono::{DateTime, Utc};

use super::customer::{Customer, Reseller};

/// What a delegated reseller may administer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The customer's account.
    AccountAdministration,
    /// The customer's subscriptions.
    SubscriptionAdministration,
}

/// The administration of one customer delegated to one reseller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedAdmin {
    /// The customer.
    pub customer_id: String,
    /// The customer's provider.
    pub provider_id: String,
    /// The reseller's PartnerID.
    pub partner_id: String,
    /// The reseller's company name when it was granted.
    pub reseller_company_name: String,
    /// When it was granted.
    pub created_at: DateTime<Utc>,
}

impl DelegatedAdmin {
    /// The delegation of `customer` to `reseller` at `now`.
    pub fn grant(customer: &Customer, reseller: &Reseller, now: DateTime<Utc>) -> Self {
        Self {
            customer_id: customer.id.clone(),
            provider_id: customer.provider_id.clone(),
            partner_id: reseller.partner_id.clone(),
            reseller_company_name: reseller.company_name.clone(),
            created_at: now,
        }
    }

    /// What the reseller may administer: the account and the subscriptions
    /// (R9 delegates both).
    pub fn scopes(&self) -> [Scope; 2] {
        [
            Scope::AccountAdministration,
            Scope::SubscriptionAdministration,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::tests::{new_customer, reseller};

    #[test]
    fn a_grant_delegates_account_and_subscription_administration_to_the_chosen_reseller() {
        let now = Utc::now();
        let customer = new_customer("contoso", None)
            .create("alice", now, None)
            .unwrap()
            .customer;
        let grant = DelegatedAdmin::grant(&customer, &reseller("4567890"), now);
        assert_eq!(
            grant,
            DelegatedAdmin {
                customer_id: customer.id.clone(),
                provider_id: "contoso".into(),
                partner_id: "4567890".into(),
                reseller_company_name: "Reseller 4567890".into(),
                created_at: now,
            }
        );
        assert_eq!(
            grant.scopes(),
            [
                Scope::AccountAdministration,
                Scope::SubscriptionAdministration
            ]
        );
    }
}
