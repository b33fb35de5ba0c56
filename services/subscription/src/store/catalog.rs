//! R14: the offer catalog, its queries and the seeded offers (realistic
//! Microsoft cloud offers with their licence limits, terms and billing
//! cycles).

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use twotier_platform::by_position::ReadFrom;
use twotier_platform::{Error, paging};

use super::entities::offer;
use crate::domain::{BillingCycle, Offer, Term};

/// Offers by id, a page after the domain token `page_token`.
pub async fn list(
    db: &impl ConnectionTrait,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Offer>, String), Error> {
    let fingerprint = paging::fingerprint(&["offers"]);
    let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
    let mut query = offer::Entity::find()
        .order_by_asc(offer::Column::Id)
        .limit(page_size + 1);
    if let Some(after) = after {
        query = query.filter(offer::Column::Id.gt(after));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, token) = paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
    let offers = rows.into_iter().map(from_row).collect::<Result<_, _>>()?;
    Ok((offers, token))
}

/// The offer `offer_id`, if the catalog has it.
pub async fn find(db: &impl ConnectionTrait, offer_id: &str) -> Result<Option<Offer>, DbErr> {
    offer::Entity::find_by_id(offer_id.to_owned())
        .one(db)
        .await?
        .map(from_row)
        .transpose()
}

/// The offers among `offer_ids` that the catalog has, by id.
pub async fn find_many<'a>(
    db: &impl ReadFrom,
    offer_ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, Offer>, DbErr> {
    let ids: Vec<&str> = offer_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let among = offer::Entity::find().filter(offer::Column::Id.is_in(ids));
    super::by_position::all::<offer::Model>(db, among)
        .await?
        .into_iter()
        .map(|row| from_row(row).map(|offer| (offer.id.clone(), offer)))
        .collect()
}

fn from_row(row: offer::Model) -> Result<Offer, DbErr> {
    Ok(Offer {
        terms: keys(&row.terms)?
            .iter()
            .map(|key| term(key))
            .collect::<Result<_, _>>()?,
        billing_cycles: keys(&row.billing_cycles)?
            .iter()
            .map(|key| billing_cycle(key))
            .collect::<Result<_, _>>()?,
        id: row.id,
        display_name: row.display_name,
        description: row.description,
        min_licenses: row.min_licenses,
        max_licenses: row.max_licenses,
    })
}

/// A stored JSON array of keys.
fn keys(json: &str) -> Result<Vec<String>, DbErr> {
    serde_json::from_str(json).map_err(|e| DbErr::Type(format!("stored keys {json:?}: {e}")))
}

/// A term as stored.
pub(super) fn term(key: &str) -> Result<Term, DbErr> {
    match key {
        MONTHLY => Ok(Term::Monthly),
        ANNUAL => Ok(Term::Annual),
        other => Err(DbErr::Type(format!("unknown stored term {other:?}"))),
    }
}

/// How a term is stored.
pub(super) fn term_key(term: Term) -> &'static str {
    match term {
        Term::Monthly => MONTHLY,
        Term::Annual => ANNUAL,
    }
}

/// A billing cycle as stored.
pub(super) fn billing_cycle(key: &str) -> Result<BillingCycle, DbErr> {
    match key {
        MONTHLY => Ok(BillingCycle::Monthly),
        ANNUAL => Ok(BillingCycle::Annual),
        other => Err(DbErr::Type(format!(
            "unknown stored billing cycle {other:?}"
        ))),
    }
}

/// How a billing cycle is stored.
pub(super) fn billing_cycle_key(cycle: BillingCycle) -> &'static str {
    match cycle {
        BillingCycle::Monthly => MONTHLY,
        BillingCycle::Annual => ANNUAL,
    }
}

const MONTHLY: &str = "monthly";
const ANNUAL: &str = "annual";

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

const BOTH: &[&str] = &[MONTHLY, ANNUAL];
const MONTHLY_ONLY: &[&str] = &[MONTHLY];

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
        terms: MONTHLY_ONLY,
        billing_cycles: MONTHLY_ONLY,
    },
];
