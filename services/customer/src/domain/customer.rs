//! R9, R10, R13: adding a customer, optionally for one of the provider's
//! indirect resellers, and who may see it.

use chrono::{DateTime, Utc};

use super::delegated_admin::DelegatedAdmin;
use super::error::CustomerError;

/// Suffix of every customer's initial domain.
const DOMAIN_SUFFIX: &str = ".onmicrosoft.com";

/// The domain prefix `raw` asks for, lower-cased: prefixes are
/// case-insensitive, and the stored one is 3 to 27 ASCII letters and digits.
pub fn domain_prefix(raw: &str) -> Result<String, CustomerError> {
    let prefix = raw.to_lowercase();
    let valid = (3..=27).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !valid {
        return Err(CustomerError::MalformedDomainPrefix);
    }
    Ok(prefix)
}

/// The initial domain a customer with `prefix` gets.
pub fn initial_domain(prefix: &str) -> String {
    format!("{prefix}{DOMAIN_SUFFIX}")
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Street and number.
    pub address_line1: String,
    /// Anything else, may be empty.
    pub address_line2: String,
    /// City.
    pub city: String,
    /// Region, may be empty.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
}

/// A person to contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email address.
    pub email: String,
    /// Phone, may be empty.
    pub phone: String,
}

/// An indirect reseller that is an active partner of the provider right
/// now, as the partner projection knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reseller {
    /// PartnerID.
    pub partner_id: String,
    /// Company name.
    pub company_name: String,
    /// Where it is emailed.
    pub contact_email: String,
    /// `en` or `de`.
    pub language_code: String,
}

/// A customer a provider asks to add, its fields already well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// The provider (the caller's tenant).
    pub provider_id: String,
    /// Company name.
    pub company_name: String,
    /// As [`domain_prefix`] returns it.
    pub domain_prefix: String,
    /// Postal address.
    pub address: Address,
    /// Primary contact.
    pub contact: Contact,
    /// `en` or `de`.
    pub language_code: String,
    /// The PartnerID of the reseller to delegate to, if one was chosen.
    pub reseller_partner_id: Option<String>,
}

/// A customer of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// UUIDv7.
    pub id: String,
    /// The provider's tenant id.
    pub provider_id: String,
    /// Company name.
    pub company_name: String,
    /// Initial domain prefix, unique across all customers.
    pub domain_prefix: String,
    /// Postal address.
    pub address: Address,
    /// Primary contact.
    pub contact: Contact,
    /// `en` or `de`.
    pub language_code: String,
    /// PartnerID of the reseller it is delegated to, if any.
    pub reseller_partner_id: Option<String>,
    /// Whether the Microsoft Customer Agreement is recorded (R12).
    pub agreement_accepted: bool,
    /// Subject of the provider user who added it.
    pub created_by: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Bumped by every change; the etag.
    pub version: i64,
}

impl Customer {
    /// Its initial domain, `<prefix>.onmicrosoft.com`.
    pub fn domain(&self) -> String {
        initial_domain(&self.domain_prefix)
    }
}

/// What adding a customer decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The new customer.
    pub customer: Customer,
    /// The reseller chosen and the administration delegated to it (R9).
    pub delegation: Option<(Reseller, DelegatedAdmin)>,
}

impl NewCustomer {
    /// R9: the customer `created_by` adds at `now`. `partner` is the
    /// provider's active partner with the chosen PartnerID, if it has one:
    /// without it a chosen reseller is refused; with it the customer is
    /// delegated to that reseller.
    pub fn create(
        self,
        created_by: &str,
        now: DateTime<Utc>,
        partner: Option<Reseller>,
    ) -> Result<Created, CustomerError> {
        let reseller = match (&self.reseller_partner_id, partner) {
            (None, _) => None,
            (Some(chosen), Some(partner)) if partner.partner_id == *chosen => Some(partner),
            (Some(chosen), _) => return Err(CustomerError::ResellerNotPartner(chosen.clone())),
        };
        let customer = Customer {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: self.provider_id,
            company_name: self.company_name,
            domain_prefix: self.domain_prefix,
            address: self.address,
            contact: self.contact,
            language_code: self.language_code,
            reseller_partner_id: self.reseller_partner_id,
            agreement_accepted: false,
            created_by: created_by.to_owned(),
            created_at: now,
            version: 1,
        };
        let delegation = reseller.map(|reseller| {
            let grant = DelegatedAdmin::grant(&customer, &reseller, now);
            (reseller, grant)
        });
        Ok(Created {
            customer,
            delegation,
        })
    }
}

/// Who is looking at customers (R13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// A provider user, by tenant id: sees its own customers.
    Provider(String),
    /// A reseller admin, by PartnerID: sees the customers delegated to it.
    Reseller(String),
}

impl Viewer {
    /// Whether the viewer may see `customer`.
    pub fn may_see(&self, customer: &Customer) -> bool {
        match self {
            Viewer::Provider(tenant) => *tenant == customer.provider_id,
            Viewer::Reseller(partner_id) => {
                customer.reseller_partner_id.as_deref() == Some(partner_id.as_str())
            }
        }
    }

    /// The customer `found`, if the viewer may see it; to anyone else it
    /// does not exist.
    pub fn visible(&self, found: Option<Customer>) -> Result<Customer, CustomerError> {
        found
            .filter(|customer| self.may_see(customer))
            .ok_or(CustomerError::CustomerNotFound)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    pub(crate) fn new_customer(provider_id: &str, reseller: Option<&str>) -> NewCustomer {
        NewCustomer {
            provider_id: provider_id.into(),
            company_name: "Adatum AG".into(),
            domain_prefix: "adatum".into(),
            address: Address::default(),
            contact: Contact::default(),
            language_code: "de".into(),
            reseller_partner_id: reseller.map(Into::into),
        }
    }

    pub(crate) fn reseller(partner_id: &str) -> Reseller {
        Reseller {
            partner_id: partner_id.into(),
            company_name: format!("Reseller {partner_id}"),
            contact_email: "admin@fabrikam.example".into(),
            language_code: "de".into(),
        }
    }

    #[test]
    fn domain_prefixes_are_lower_cased_letters_and_digits_3_to_27_long() {
        assert_eq!(domain_prefix("Adatum2"), Ok("adatum2".into()));
        assert_eq!(domain_prefix("abc"), Ok("abc".into()));
        assert_eq!(domain_prefix(&"a".repeat(27)), Ok("a".repeat(27)));
        for refused in ["ab", "", "x!y", "ad-atum", "ad atum", "adätum", "adatum\n"] {
            assert_eq!(
                domain_prefix(refused),
                Err(CustomerError::MalformedDomainPrefix),
                "{refused:?}"
            );
        }
        assert!(domain_prefix(&"a".repeat(28)).is_err());
    }

    #[test]
    fn the_initial_domain_is_the_prefix_on_onmicrosoft_com() {
        assert_eq!(initial_domain("adatum"), "adatum.onmicrosoft.com");
        let created = new_customer("contoso", None)
            .create("alice", Utc::now(), None)
            .unwrap();
        assert_eq!(created.customer.domain(), "adatum.onmicrosoft.com");
    }

    #[test]
    fn a_new_customer_is_at_version_one_without_an_agreement() {
        let now = Utc::now();
        let customer = new_customer("contoso", None)
            .create("alice", now, None)
            .unwrap()
            .customer;
        assert_eq!(customer.version, 1);
        assert!(!customer.agreement_accepted);
        assert_eq!(
            (customer.created_by.as_str(), customer.created_at),
            ("alice", now)
        );
    }

    #[test]
    fn a_chosen_reseller_must_be_an_active_partner_and_gets_delegated_administration() {
        let refused = new_customer("contoso", Some("4567890")).create("alice", Utc::now(), None);
        assert_eq!(
            refused,
            Err(CustomerError::ResellerNotPartner("4567890".into()))
        );
        let other = new_customer("contoso", Some("4567890")).create(
            "alice",
            Utc::now(),
            Some(reseller("7654321")),
        );
        assert_eq!(
            other,
            Err(CustomerError::ResellerNotPartner("4567890".into()))
        );

        let created = new_customer("contoso", Some("4567890"))
            .create("alice", Utc::now(), Some(reseller("4567890")))
            .unwrap();
        assert_eq!(
            created.customer.reseller_partner_id.as_deref(),
            Some("4567890")
        );
        let (chosen, grant) = created.delegation.expect("delegated");
        assert_eq!(chosen, reseller("4567890"));
        assert_eq!(grant.customer_id, created.customer.id);
        assert_eq!(grant.partner_id, "4567890");
        assert_eq!(grant.reseller_company_name, "Reseller 4567890");
    }

    #[test]
    fn without_a_reseller_nothing_is_delegated() {
        let created = new_customer("contoso", None)
            .create("alice", Utc::now(), Some(reseller("4567890")))
            .unwrap();
        assert_eq!(created.customer.reseller_partner_id, None);
        assert_eq!(created.delegation, None);
    }

    #[test]
    fn a_customer_nobody_may_see_does_not_exist() {
        let customer = new_customer("contoso", Some("4567890"))
            .create("alice", Utc::now(), Some(reseller("4567890")))
            .unwrap()
            .customer;
        let provider = Viewer::Provider("contoso".into());
        assert_eq!(
            provider.visible(Some(customer.clone())),
            Ok(customer.clone())
        );
        assert_eq!(provider.visible(None), Err(CustomerError::CustomerNotFound));
        for stranger in [
            Viewer::Provider("northwind".into()),
            Viewer::Reseller("7654321".into()),
            // A PartnerID is not a tenant id, nor the other way round.
            Viewer::Reseller("contoso".into()),
            Viewer::Provider("4567890".into()),
        ] {
            assert_eq!(
                stranger.visible(Some(customer.clone())),
                Err(CustomerError::CustomerNotFound)
            );
        }
    }

    const PROVIDERS: [&str; 3] = ["contoso", "northwind", "wingtip"];
    const RESELLERS: [&str; 3] = ["1000001", "1000002", "1000003"];

    fn viewer() -> impl Strategy<Value = Viewer> {
        prop_oneof![
            (0..PROVIDERS.len()).prop_map(|i| Viewer::Provider(PROVIDERS[i].into())),
            (0..RESELLERS.len()).prop_map(|i| Viewer::Reseller(RESELLERS[i].into())),
        ]
    }

    proptest! {
        #[test]
        fn domain_prefix_accepts_exactly_its_definition(raw in "\\PC{0,30}|[A-Za-z0-9]{0,30}") {
            let lower = raw.to_lowercase();
            let defined = (3..=27).contains(&lower.chars().count())
                && lower.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            match domain_prefix(&raw) {
                Ok(prefix) => {
                    prop_assert!(defined);
                    prop_assert_eq!(&prefix, &lower);
                    prop_assert_eq!(domain_prefix(&prefix.to_uppercase()), Ok(prefix.clone()));
                }
                Err(error) => {
                    prop_assert!(!defined);
                    prop_assert_eq!(error, CustomerError::MalformedDomainPrefix);
                }
            }
        }

        #[test]
        fn a_reseller_sees_exactly_the_customers_delegated_to_it_and_a_provider_exactly_its_own(
            adds in prop::collection::vec(
                (0..PROVIDERS.len(), prop::option::of(0..RESELLERS.len())),
                0..24,
            ),
            viewer in viewer(),
        ) {
            let mut seen = Vec::new();
            let mut expected = Vec::new();
            for (provider, chosen) in adds {
                let chosen = chosen.map(|i| RESELLERS[i]);
                let created = new_customer(PROVIDERS[provider], chosen)
                    .create("alice", Utc::now(), chosen.map(reseller))
                    .unwrap();
                let ours = match &viewer {
                    Viewer::Provider(tenant) => tenant == PROVIDERS[provider],
                    Viewer::Reseller(partner_id) => chosen == Some(partner_id.as_str()),
                };
                if ours {
                    expected.push(created.customer.id.clone());
                }
                if viewer.may_see(&created.customer) {
                    seen.push(created.customer.id);
                }
            }
            prop_assert_eq!(seen, expected);
        }
    }
}
