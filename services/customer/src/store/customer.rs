//! Queries of customers.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use twotier_platform::by_position::ReadFrom;
use twotier_platform::guarded::update_guarded;
use twotier_platform::{Error, paging};

use super::by_position;
use super::entities::customer;
use crate::domain::{Address, Contact, Customer, CustomerError};

/// The customer `customer_id` of `provider_id`, if there is one.
pub async fn find(
    db: &impl ReadFrom,
    provider_id: &str,
    customer_id: &str,
) -> Result<Option<Customer>, DbErr> {
    let by_key = customer::Entity::find_by_id(customer_id.to_owned());
    let row = by_position::one_owned(db, by_key, |row| row.provider_id == provider_id).await?;
    Ok(row.map(from_row))
}

/// Whether a customer has `prefix`.
pub async fn prefix_taken(db: &impl ConnectionTrait, prefix: &str) -> Result<bool, DbErr> {
    let found = customer::Entity::find()
        .filter(customer::Column::DomainPrefix.eq(prefix))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Inserts `new` and returns it as written. The unique index on the domain
/// prefix decides between concurrent creates of the same prefix.
pub async fn insert(db: &impl ConnectionTrait, new: &Customer) -> Result<Customer, Error> {
    let row = to_row(new).into_active_model().insert(db).await;
    match row {
        Ok(row) => Ok(from_row(row)),
        Err(error) if twotier_platform::db::is_unique_violation(&error) => {
            Err(CustomerError::DomainPrefixTaken(new.domain_prefix.clone()).into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Marks the customer `customer_id` as having accepted the Microsoft
/// Customer Agreement (a new version).
pub async fn accept_agreement(db: &impl ConnectionTrait, customer_id: &str) -> Result<(), DbErr> {
    let changes = customer::ActiveModel {
        agreement_accepted: sea_orm::ActiveValue::Set(true),
        ..Default::default()
    };
    update_guarded(
        db,
        changes,
        customer::Column::Version,
        Condition::all().add(customer::Column::Id.eq(customer_id)),
    )
    .await?;
    Ok(())
}

/// Delegates the customer `customer_id` to `to` (R22) or to no reseller
/// (R23), if it is still delegated to `from`: a concurrent change makes
/// this `None` and the caller's command fail. The customer as written, at
/// a new version.
pub async fn change_reseller(
    db: &impl ConnectionTrait,
    customer_id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Option<Customer>, DbErr> {
    let changes = customer::ActiveModel {
        reseller_partner_id: sea_orm::ActiveValue::Set(to.map(str::to_owned)),
        ..Default::default()
    };
    let current = match from {
        Some(partner_id) => customer::Column::ResellerPartnerId.eq(partner_id),
        None => customer::Column::ResellerPartnerId.is_null(),
    };
    let written = update_guarded(
        db,
        changes,
        customer::Column::Version,
        Condition::all()
            .add(customer::Column::Id.eq(customer_id))
            .add(current),
    )
    .await?;
    Ok(written.map(from_row))
}

/// One page of the provider's customers, all or those delegated to
/// `reseller`, by company name.
pub async fn list_of_provider(
    db: &impl ConnectionTrait,
    provider_id: &str,
    reseller: Option<&str>,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Customer>, String), Error> {
    let mut query = customer::Entity::find().filter(customer::Column::ProviderId.eq(provider_id));
    if let Some(partner_id) = reseller {
        query = query.filter(customer::Column::ResellerPartnerId.eq(partner_id));
    }
    let fingerprint = paging::fingerprint(&[provider_id, reseller.unwrap_or("")]);
    page(db, query, &fingerprint, page_size, page_token).await
}

/// One page of the customers delegated to `partner_id`, of every provider,
/// by company name.
pub async fn list_of_reseller(
    db: &impl ConnectionTrait,
    partner_id: &str,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Customer>, String), Error> {
    let query = customer::Entity::find().filter(customer::Column::ResellerPartnerId.eq(partner_id));
    let fingerprint = paging::fingerprint(&["reseller", partner_id]);
    page(db, query, &fingerprint, page_size, page_token).await
}

async fn page(
    db: &impl ConnectionTrait,
    query: Select<customer::Entity>,
    fingerprint: &str,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Customer>, String), Error> {
    let after: Option<(String, String)> = paging::decode_token(page_token, fingerprint)?;
    let mut query = query
        .order_by_asc(customer::Column::CompanyNameKey)
        .order_by_asc(customer::Column::Id)
        .limit(page_size + 1);
    if let Some(key) = after {
        query = query.filter(paging::after(
            (customer::Column::CompanyNameKey, customer::Column::Id),
            key,
        ));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, token) = paging::finish_page(rows, page_size, fingerprint, |row| {
        (row.company_name_key.clone(), row.id.clone())
    });
    Ok((rows.into_iter().map(from_row).collect(), token))
}

fn from_row(row: customer::Model) -> Customer {
    Customer {
        id: row.id,
        provider_id: row.provider_id,
        company_name: row.company_name,
        domain_prefix: row.domain_prefix,
        address: Address {
            address_line1: row.address_line1,
            address_line2: row.address_line2,
            city: row.city,
            region: row.region,
            postal_code: row.postal_code,
            country_code: row.country_code,
        },
        contact: Contact {
            first_name: row.contact_first_name,
            last_name: row.contact_last_name,
            email: row.contact_email,
            phone: row.contact_phone,
        },
        language_code: row.language_code,
        reseller_partner_id: row.reseller_partner_id,
        agreement_accepted: row.agreement_accepted,
        created_by: row.created_by,
        created_at: row.created_at,
        version: row.version,
    }
}

fn to_row(customer: &Customer) -> customer::Model {
    let customer = customer.clone();
    customer::Model {
        id: customer.id,
        provider_id: customer.provider_id,
        company_name_key: twotier_platform::name_key::name_key(&customer.company_name),
        company_name: customer.company_name,
        domain_prefix: customer.domain_prefix,
        address_line1: customer.address.address_line1,
        address_line2: customer.address.address_line2,
        city: customer.address.city,
        region: customer.address.region,
        postal_code: customer.address.postal_code,
        country_code: customer.address.country_code,
        contact_first_name: customer.contact.first_name,
        contact_last_name: customer.contact.last_name,
        contact_email: customer.contact.email,
        contact_phone: customer.contact.phone,
        language_code: customer.language_code,
        reseller_partner_id: customer.reseller_partner_id,
        agreement_accepted: customer.agreement_accepted,
        created_by: customer.created_by,
        created_at: customer.created_at,
        version: customer.version,
    }
}
