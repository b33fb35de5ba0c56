//! R9-R11, R13: adding, reading and listing customers.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use twotier_outbox::Event;
use twotier_platform::auth::Caller;
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};
use twotier_platform::paging;
use twotier_proto::customer as pb;

use super::convert;
use super::{CustomerError, Customers, Result, Viewer, password};
use crate::store::entities::{customer, delegated_admin};

const AGGREGATE: &str = "customer";

/// A customer to add, validated.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// The provider (caller's tenant).
    pub provider_id: String,
    /// Company name.
    pub company_name: String,
    /// Lower-case domain prefix.
    pub domain_prefix: String,
    /// Postal address.
    pub address: pb::Address,
    /// Primary contact.
    pub contact: pb::Contact,
    /// `en` or `de`.
    pub language_code: String,
    /// The reseller to delegate to, if any.
    pub reseller_partner_id: Option<String>,
}

impl Customers {
    /// R9/R10/R11: validates and, unless `validate_only`, creates the
    /// customer; the admin credentials are returned on the first create
    /// only.
    pub async fn create_customer(
        &self,
        caller: &Caller,
        new: NewCustomer,
        validate_only: bool,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::CreateCustomerResponse> {
        let db = self.outbox.db();
        if !validate_only && let Some(replay) = idempotency::peek(db, key.as_ref()).await? {
            return Ok(replay);
        }
        // Checked before the transaction: it may wait for the partner
        // projection to catch up, which must not hold a connection.
        let reseller = match &new.reseller_partner_id {
            Some(partner_id) => Some(
                self.directory
                    .active_partner(&new.provider_id, partner_id)
                    .await?
                    .ok_or_else(|| CustomerError::ResellerNotPartner(partner_id.clone()))?,
            ),
            None => None,
        };
        // On submit the unique index decides (also between concurrent
        // creates); the review has nothing to insert, so it looks.
        if validate_only && prefix_taken(db, &new.domain_prefix).await? {
            return Err(CustomerError::DomainPrefixTaken(new.domain_prefix));
        }
        let now = Utc::now();
        let row = customer::Model {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: new.provider_id,
            company_name_key: new.company_name.to_lowercase(),
            company_name: new.company_name,
            domain_prefix: new.domain_prefix,
            address_line1: new.address.address_line1,
            address_line2: new.address.address_line2,
            city: new.address.city,
            region: new.address.region,
            postal_code: new.address.postal_code,
            country_code: new.address.country_code,
            contact_first_name: new.contact.first_name,
            contact_last_name: new.contact.last_name,
            contact_email: new.contact.email,
            contact_phone: new.contact.phone,
            language_code: new.language_code,
            reseller_partner_id: new.reseller_partner_id,
            agreement_accepted: false,
            created_by: caller.subject.clone(),
            created_at: now,
            version: 1,
        };
        if validate_only {
            let mut preview = convert::customer(row);
            preview.name = String::new();
            return Ok(pb::CreateCustomerResponse {
                customer: Some(preview),
                admin_credentials: None,
                credentials_already_returned: false,
                validate_only: true,
            });
        }

        let tx = self.outbox.begin().await?;
        if let Claim::Replay(replay) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(replay);
        }
        let active: customer::ActiveModel = row.clone().into();
        let row = active.insert(&*tx).await.map_err(|error| {
            if twotier_platform::db::is_unique_violation(&error) {
                return CustomerError::DomainPrefixTaken(row.domain_prefix.clone());
            }
            error.into()
        })?;
        let created = convert::customer(row.clone());
        let reseller_contact = reseller.as_ref().map(|r| pb::ResellerContact {
            partner_id: r.partner_id.clone(),
            company_name: r.company_name.clone(),
            contact_email: r.contact_email.clone(),
            language_code: r.preferred_language.clone(),
        });
        tx.append(Event::new(
            AGGREGATE,
            &row.id,
            &row.provider_id,
            &pb::CustomerCreated {
                customer: Some(created.clone()),
                indirect_reseller: reseller_contact,
            },
        ))
        .await?;
        if let Some(reseller) = reseller {
            let grant = delegated_admin::ActiveModel {
                customer_id: Set(row.id.clone()),
                partner_id: Set(reseller.partner_id.clone()),
                provider_id: Set(row.provider_id.clone()),
                reseller_company_name: Set(reseller.company_name.clone()),
                created_at: Set(now),
            }
            .insert(&*tx)
            .await?;
            tx.append(Event::new(
                AGGREGATE,
                &row.id,
                &row.provider_id,
                &pb::DelegatedAdminGranted {
                    customer: created.name.clone(),
                    relationship: Some(convert::relationship(grant)),
                },
            ))
            .await?;
        }
        // What a retry gets: the customer, never the credentials.
        let replay = pb::CreateCustomerResponse {
            customer: Some(created.clone()),
            admin_credentials: None,
            credentials_already_returned: true,
            validate_only: false,
        };
        idempotency::complete(&tx, key.as_ref(), &replay).await?;
        tx.commit().await?;
        tracing::info!(customer = %created.name, domain = %created.domain, "customer created");
        Ok(pb::CreateCustomerResponse {
            admin_credentials: Some(pb::AdminCredentials {
                user_name: format!("admin@{}", created.domain),
                temporary_password: password::temporary_password(),
            }),
            customer: Some(created),
            credentials_already_returned: false,
            validate_only: false,
        })
    }

    /// Whether no customer uses `prefix`.
    pub async fn domain_prefix_available(&self, prefix: &str) -> Result<bool> {
        Ok(!prefix_taken(self.outbox.db(), prefix).await?)
    }

    /// Reads a customer visible to `viewer`.
    pub async fn get_customer(
        &self,
        viewer: &Viewer,
        provider_id: &str,
        customer_id: &str,
    ) -> Result<pb::Customer> {
        let row = visible_customer(self.outbox.db(), viewer, provider_id, customer_id).await?;
        Ok(convert::customer(row))
    }

    /// R13: the provider's customers, all or one reseller's.
    pub async fn list_customers(
        &self,
        provider_id: &str,
        reseller: Option<&str>,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Customer>, String)> {
        let mut query =
            customer::Entity::find().filter(customer::Column::ProviderId.eq(provider_id));
        if let Some(partner_id) = reseller {
            query = query.filter(customer::Column::ResellerPartnerId.eq(partner_id));
        }
        let fingerprint = paging::fingerprint(&[provider_id, reseller.unwrap_or("")]);
        self.page(query, &fingerprint, page_size, page_token).await
    }

    /// R13: the customers delegated to `partner_id`, across providers.
    pub async fn list_reseller_customers(
        &self,
        partner_id: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Customer>, String)> {
        let query =
            customer::Entity::find().filter(customer::Column::ResellerPartnerId.eq(partner_id));
        let fingerprint = paging::fingerprint(&["reseller", partner_id]);
        self.page(query, &fingerprint, page_size, page_token).await
    }

    async fn page(
        &self,
        query: Select<customer::Entity>,
        fingerprint: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Customer>, String)> {
        let after: Option<(String, String)> = paging::decode_token(page_token, fingerprint)?;
        let mut query = query
            .order_by_asc(customer::Column::CompanyNameKey)
            .order_by_asc(customer::Column::Id)
            .limit(page_size + 1);
        if let Some((name_key, id)) = after {
            query = query.filter(paging::after(
                (customer::Column::CompanyNameKey, customer::Column::Id),
                (name_key, id),
            ));
        }
        let rows = query.all(self.outbox.db()).await?;
        let (rows, token) = paging::finish_page(rows, page_size, fingerprint, |row| {
            (row.company_name_key.clone(), row.id.clone())
        });
        Ok((rows.into_iter().map(convert::customer).collect(), token))
    }

    /// The delegated admin relationships of a customer visible to `viewer`.
    pub async fn list_relationships(
        &self,
        viewer: &Viewer,
        provider_id: &str,
        customer_id: &str,
    ) -> Result<Vec<pb::DelegatedAdminRelationship>> {
        let db = self.outbox.db();
        let row = visible_customer(db, viewer, provider_id, customer_id).await?;
        let grants = delegated_admin::Entity::find()
            .filter(delegated_admin::Column::CustomerId.eq(&row.id))
            .order_by_asc(delegated_admin::Column::PartnerId)
            .all(db)
            .await?;
        Ok(grants.into_iter().map(convert::relationship).collect())
    }
}

async fn prefix_taken(db: &impl ConnectionTrait, prefix: &str) -> Result<bool> {
    Ok(customer::Entity::find()
        .filter(customer::Column::DomainPrefix.eq(prefix))
        .one(db)
        .await?
        .is_some())
}

/// The customer if `viewer` may see it; otherwise it does not exist.
pub(super) async fn visible_customer(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    provider_id: &str,
    customer_id: &str,
) -> Result<customer::Model> {
    let row = customer::Entity::find_by_id(customer_id.to_owned())
        .filter(customer::Column::ProviderId.eq(provider_id))
        .one(db)
        .await?
        .ok_or(CustomerError::CustomerNotFound)?;
    let visible = match viewer {
        Viewer::Provider(tenant) => *tenant == row.provider_id,
        Viewer::Reseller(partner_id) => {
            row.reseller_partner_id.as_deref() == Some(partner_id.as_str())
        }
    };
    if !visible {
        return Err(CustomerError::CustomerNotFound);
    }
    Ok(row)
}
