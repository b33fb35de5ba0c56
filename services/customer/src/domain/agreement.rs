//! R12: the provider's attestation of the Microsoft Customer Agreement.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use twotier_outbox::Event;
use twotier_platform::auth::Caller;
use twotier_proto::customer as pb;

use super::convert;
use super::customer::visible_customer;
use super::{CustomerError, Customers, Result, Viewer};
use crate::store::entities::{customer, customer_agreement};

/// The attestation, validated.
#[derive(Debug, Clone)]
pub struct AgreementFields {
    /// Signatory first name.
    pub first_name: String,
    /// Signatory last name.
    pub last_name: String,
    /// Signatory email.
    pub email: String,
    /// Signatory phone, may be empty.
    pub phone: String,
    /// `YYYY-MM-DD`.
    pub date_agreed: String,
}

impl Customers {
    /// Records (or replaces) the attestation and marks the customer as
    /// having accepted.
    pub async fn record_agreement(
        &self,
        caller: &Caller,
        provider_id: &str,
        customer_id: &str,
        fields: AgreementFields,
    ) -> Result<pb::CustomerAgreement> {
        let tx = self.outbox.begin().await?;
        let viewer = Viewer::Provider(caller.tenant_id.clone());
        let row = visible_customer(&*tx, &viewer, provider_id, customer_id).await?;
        let now = Utc::now();
        let agreement = customer_agreement::ActiveModel {
            customer_id: Set(row.id.clone()),
            provider_id: Set(row.provider_id.clone()),
            signatory_first_name: Set(fields.first_name),
            signatory_last_name: Set(fields.last_name),
            signatory_email: Set(fields.email),
            signatory_phone: Set(fields.phone),
            date_agreed: Set(fields.date_agreed),
            recorded_by: Set(caller.subject.clone()),
            recorded_at: Set(now),
        };
        customer_agreement::Entity::insert(agreement)
            .on_conflict(
                OnConflict::column(customer_agreement::Column::CustomerId)
                    .update_columns([
                        customer_agreement::Column::SignatoryFirstName,
                        customer_agreement::Column::SignatoryLastName,
                        customer_agreement::Column::SignatoryEmail,
                        customer_agreement::Column::SignatoryPhone,
                        customer_agreement::Column::DateAgreed,
                        customer_agreement::Column::RecordedBy,
                        customer_agreement::Column::RecordedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&*tx)
            .await?;
        customer::Entity::update_many()
            .col_expr(customer::Column::AgreementAccepted, Expr::value(true))
            .col_expr(
                customer::Column::Version,
                Expr::col(customer::Column::Version).add(1),
            )
            .filter(customer::Column::Id.eq(&row.id))
            .exec(&*tx)
            .await?;
        let stored = customer_agreement::Entity::find_by_id(row.id.clone())
            .one(&*tx)
            .await?
            .ok_or(CustomerError::AgreementNotFound)?;
        let recorded = convert::agreement(stored);
        tx.append(Event::new(
            "customer",
            &row.id,
            &row.provider_id,
            &pb::CustomerAgreementAccepted {
                customer: convert::customer_name(&row.provider_id, &row.id),
                customer_agreement: Some(recorded.clone()),
            },
        ))
        .await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Reads the attestation of a customer visible to `viewer`.
    pub async fn get_agreement(
        &self,
        viewer: &Viewer,
        provider_id: &str,
        customer_id: &str,
    ) -> Result<pb::CustomerAgreement> {
        let db = self.outbox.db();
        let row = visible_customer(db, viewer, provider_id, customer_id).await?;
        let agreement = customer_agreement::Entity::find_by_id(row.id)
            .one(db)
            .await?
            .ok_or(CustomerError::AgreementNotFound)?;
        Ok(convert::agreement(agreement))
    }
}
