//! The seeded offer catalog (R14): realistic Microsoft cloud offers with
//! their licence limits, terms and billing cycles.

/// One seeded offer: id, name, description, min and max licences, terms,
/// billing cycles (as stored: `monthly`, `annual`).
pub struct SeedOffer {
    /// Offer id.
    pub id: &'static str,
    /// Product name.
    pub display_name: &'static str,
    /// Short description.
    pub description: &'static str,
    /// Fewest licences.
    pub min_licenses: i32,
    /// Most licences.
    pub max_licenses: i32,
    /// Terms offered.
    pub terms: &'static [&'static str],
    /// Billing cycles offered.
    pub billing_cycles: &'static [&'static str],
}

const BOTH: &[&str] = &["monthly", "annual"];
const MONTHLY: &[&str] = &["monthly"];

/// The catalog every database starts with.
pub const OFFERS: &[SeedOffer] = &[
    SeedOffer {
        id: "m365-business-basic",
        display_name: "Microsoft 365 Business Basic",
        description: "Web and mobile Office apps, Teams, Exchange email and 1 TB OneDrive storage per user.",
        min_licenses: 1,
        max_licenses: 300,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "m365-business-standard",
        display_name: "Microsoft 365 Business Standard",
        description: "Everything in Business Basic plus desktop Office apps.",
        min_licenses: 1,
        max_licenses: 300,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "m365-business-premium",
        display_name: "Microsoft 365 Business Premium",
        description: "Everything in Business Standard plus advanced security and device management.",
        min_licenses: 1,
        max_licenses: 300,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "o365-e3",
        display_name: "Office 365 E3",
        description: "Office apps, email, file storage and compliance for enterprises.",
        min_licenses: 1,
        max_licenses: 100_000,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "m365-e5",
        display_name: "Microsoft 365 E5",
        description: "Enterprise productivity with advanced security, compliance and analytics.",
        min_licenses: 1,
        max_licenses: 100_000,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "exchange-online-plan-1",
        display_name: "Exchange Online (Plan 1)",
        description: "Business email with a 50 GB mailbox per user.",
        min_licenses: 1,
        max_licenses: 100_000,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "teams-essentials",
        display_name: "Microsoft Teams Essentials",
        description: "Meetings, chat and file sharing for small businesses.",
        min_licenses: 1,
        max_licenses: 300,
        terms: BOTH,
        billing_cycles: BOTH,
    },
    SeedOffer {
        id: "azure-plan",
        display_name: "Azure plan",
        description: "Pay-as-you-go Azure consumption; one plan per customer.",
        min_licenses: 1,
        max_licenses: 1,
        terms: MONTHLY,
        billing_cycles: MONTHLY,
    },
];
