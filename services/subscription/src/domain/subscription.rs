//! R15-R19 on existing subscriptions: reading them, licence quantity,
//! reseller of record and support contact.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use twotier_outbox::Event;
use twotier_platform::auth::Caller;
use twotier_platform::{names, paging};
use twotier_proto::subscription as pb;

use super::catalog::{check_quantity, offer_for};
use super::{Result, SubscriptionError, Subscriptions};
use crate::store::entities::{offer, subscription};

const CUSTOMER: [&str; 4] = ["providers", "*", "customers", "*"];

impl Subscriptions {
    /// Checks that the caller may see `customer`'s subscriptions: the
    /// provider that owns it, or a reseller admin it is delegated to (asked
    /// fresh of the customer service).
    pub async fn authorize_customer(&self, caller: &Caller, customer: &str) -> Result<()> {
        let Some([provider_id, _]) = names::parse::<2>(customer, &CUSTOMER) else {
            return Err(SubscriptionError::CustomerNotFound);
        };
        if caller.is_provider() {
            caller.require_own_provider(provider_id)?;
            return Ok(());
        }
        self.dependencies
            .customer(caller, customer)
            .await
            .map(|_| ())
    }

    /// A customer's subscriptions, oldest first.
    pub async fn list_subscriptions(
        &self,
        customer: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Subscription>, String)> {
        let fingerprint = paging::fingerprint(&[customer]);
        let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
        let mut query = subscription::Entity::find()
            .filter(subscription::Column::Customer.eq(customer))
            .order_by_asc(subscription::Column::Id)
            .limit(page_size + 1);
        if let Some(after) = after {
            query = query.filter(subscription::Column::Id.gt(after));
        }
        let db = self.outbox.db();
        let rows = query.all(db).await?;
        let (rows, token) =
            paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
        let mut listed = Vec::with_capacity(rows.len());
        for row in rows {
            listed.push(with_offer_name(db, row).await?);
        }
        Ok((listed, token))
    }

    /// One subscription of `customer`.
    pub async fn get_subscription(
        &self,
        customer: &str,
        subscription_id: &str,
    ) -> Result<pb::Subscription> {
        let db = self.outbox.db();
        let row = find(db, customer, subscription_id).await?;
        with_offer_name(db, row).await
    }

    /// R17: changes the licence quantity within the offer's limits.
    pub async fn change_quantity(
        &self,
        customer: &str,
        subscription_id: &str,
        quantity: i32,
        etag: &str,
    ) -> Result<pb::Subscription> {
        let tx = self.outbox.begin().await?;
        let current = find(&*tx, customer, subscription_id).await?;
        names::check_etag(etag, current.version, "the subscription")
            .map_err(|_| SubscriptionError::StaleEtag("the subscription"))?;
        let offer = offer_for(&*tx, &current.offer_id, "offer").await?;
        check_quantity(&offer, quantity, "quantity")?;
        let changed = update(
            &*tx,
            &current,
            subscription::Column::Quantity,
            Expr::value(quantity),
        )
        .await?;
        let changed = super::convert::subscription(changed, &offer.display_name);
        tx.append(Event::new(
            "subscription",
            &changed.name,
            &current.provider_id,
            &pb::LicenseQuantityChanged {
                subscription: Some(changed.clone()),
                previous_quantity: current.quantity,
            },
        ))
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// R18: names (or clears) the reseller of record; a PartnerID must pass
    /// verification (R3) on the partnership service.
    pub async fn change_reseller_of_record(
        &self,
        caller: &Caller,
        customer: &str,
        subscription_id: &str,
        partner_id: Option<String>,
        etag: &str,
    ) -> Result<pb::Subscription> {
        let customer_company_name = self
            .dependencies
            .customer(caller, customer)
            .await?
            .company_name;
        let reseller = match &partner_id {
            Some(partner_id) => {
                self.dependencies
                    .verify_reseller(caller, partner_id)
                    .await?;
                Some(self.reseller_contact(partner_id).await?)
            }
            None => None,
        };
        let tx = self.outbox.begin().await?;
        let current = find(&*tx, customer, subscription_id).await?;
        names::check_etag(etag, current.version, "the subscription")
            .map_err(|_| SubscriptionError::StaleEtag("the subscription"))?;
        let changed = update(
            &*tx,
            &current,
            subscription::Column::ResellerPartnerId,
            Expr::value(partner_id),
        )
        .await?;
        let changed = with_offer_name(&*tx, changed).await?;
        tx.append(Event::new(
            "subscription",
            &changed.name,
            &current.provider_id,
            &pb::ResellerOfRecordChanged {
                subscription: Some(changed.clone()),
                customer_company_name,
                reseller,
                previous_partner_id: current.reseller_partner_id.clone().unwrap_or_default(),
            },
        ))
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// R19: designates (or clears) the support contact; only a reseller with
    /// an active partnership with the provider.
    pub async fn set_support_contact(
        &self,
        caller: &Caller,
        customer: &str,
        subscription_id: &str,
        partner_id: Option<String>,
        etag: &str,
    ) -> Result<pb::Subscription> {
        let provider_id = names::parse::<2>(customer, &CUSTOMER)
            .map(|[provider, _]| provider.to_owned())
            .unwrap_or_default();
        let customer_company_name = self
            .dependencies
            .customer(caller, customer)
            .await?
            .company_name;
        let reseller = match &partner_id {
            Some(partner_id) => {
                let partner = self
                    .directory
                    .active_partner(&provider_id, partner_id)
                    .await?;
                if partner.is_none() {
                    return Err(SubscriptionError::SupportContactNotPartner(
                        partner_id.clone(),
                    ));
                }
                Some(self.reseller_contact(partner_id).await?)
            }
            None => None,
        };
        let tx = self.outbox.begin().await?;
        let current = find(&*tx, customer, subscription_id).await?;
        names::check_etag(etag, current.version, "the subscription")
            .map_err(|_| SubscriptionError::StaleEtag("the subscription"))?;
        let changed = update(
            &*tx,
            &current,
            subscription::Column::SupportContactPartnerId,
            Expr::value(partner_id),
        )
        .await?;
        let changed = with_offer_name(&*tx, changed).await?;
        tx.append(Event::new(
            "subscription",
            &changed.name,
            &current.provider_id,
            &pb::SupportContactChanged {
                subscription: Some(changed.clone()),
                customer_company_name,
                reseller,
                previous_partner_id: current
                    .support_contact_partner_id
                    .clone()
                    .unwrap_or_default(),
            },
        ))
        .await?;
        tx.commit().await?;
        Ok(changed)
    }
}

async fn find(
    db: &impl ConnectionTrait,
    customer: &str,
    subscription_id: &str,
) -> Result<subscription::Model> {
    subscription::Entity::find_by_id(subscription_id.to_owned())
        .filter(subscription::Column::Customer.eq(customer))
        .one(db)
        .await?
        .ok_or(SubscriptionError::SubscriptionNotFound)
}

/// Sets one column and bumps the version, if the version is still the one
/// read: a concurrent change makes this one fail with ABORTED.
async fn update(
    db: &impl ConnectionTrait,
    current: &subscription::Model,
    column: subscription::Column,
    value: Expr,
) -> Result<subscription::Model> {
    subscription::Entity::update_many()
        .col_expr(column, value)
        .col_expr(subscription::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            subscription::Column::Version,
            Expr::value(current.version + 1),
        )
        .filter(subscription::Column::Id.eq(&current.id))
        .filter(subscription::Column::Version.eq(current.version))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or(SubscriptionError::StaleEtag("the subscription"))
}

async fn with_offer_name(
    db: &impl ConnectionTrait,
    row: subscription::Model,
) -> Result<pb::Subscription> {
    let name = offer::Entity::find_by_id(row.offer_id.clone())
        .select_only()
        .column(offer::Column::DisplayName)
        .into_tuple::<String>()
        .one(db)
        .await?
        .unwrap_or_default();
    Ok(super::convert::subscription(row, &name))
}
