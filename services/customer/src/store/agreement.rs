//! Queries of customer agreements.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, IntoActiveModel};

use super::entities::customer_agreement;
use crate::domain::{Attestation, CustomerAgreement};

/// Records `agreement`, replacing the customer's earlier one.
pub async fn save(db: &impl ConnectionTrait, agreement: &CustomerAgreement) -> Result<(), DbErr> {
    let attestation = agreement.attestation.clone();
    let row = customer_agreement::Model {
        customer_id: agreement.customer_id.clone(),
        provider_id: agreement.provider_id.clone(),
        signatory_first_name: attestation.signatory_first_name,
        signatory_last_name: attestation.signatory_last_name,
        signatory_email: attestation.signatory_email,
        signatory_phone: attestation.signatory_phone,
        date_agreed: attestation.date_agreed,
        recorded_by: agreement.recorded_by.clone(),
        recorded_at: agreement.recorded_at,
    };
    customer_agreement::Entity::insert(row.into_active_model())
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
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The agreement recorded for the customer `customer_id`, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    customer_id: &str,
) -> Result<Option<CustomerAgreement>, DbErr> {
    let row = customer_agreement::Entity::find_by_id(customer_id.to_owned())
        .one(db)
        .await?;
    Ok(row.map(|row| CustomerAgreement {
        customer_id: row.customer_id,
        provider_id: row.provider_id,
        attestation: Attestation {
            signatory_first_name: row.signatory_first_name,
            signatory_last_name: row.signatory_last_name,
            signatory_email: row.signatory_email,
            signatory_phone: row.signatory_phone,
            date_agreed: row.date_agreed,
        },
        recorded_by: row.recorded_by,
        recorded_at: row.recorded_at,
    }))
}
