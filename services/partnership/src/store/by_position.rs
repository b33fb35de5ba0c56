//! Partnerships and resellers read by column position, on the hot reads
//! (see `twotier_platform::by_position`). A select of an entity lists its
//! columns in the order of the entity's `Column` enum, which is the order
//! of the model's fields; the test
//! `models_read_by_position_equal_models_read_by_name` holds the ways to
//! read them to the same answer.

use sea_orm::DbErr;
pub use twotier_platform::by_position::{ByPosition, Columns, Row, all, one, one_owned};

use super::entities::{partnership, reseller};

// Fields are listed in the model's order: a struct expression evaluates
// its fields in the order written, so each `take` reads the next column.

impl ByPosition for partnership::Model {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            id: c.take()?,
            provider_id: c.take()?,
            partner_id: c.take()?,
            state: c.take()?,
            company_name: c.take()?,
            company_name_key: c.take()?,
            invitation_id: c.take()?,
            accepted_at: c.take()?,
            accepted_by: c.take()?,
            state_changed_at: c.take()?,
            removed_at: c.take()?,
            removed_by: c.take()?,
            attested_good_faith: c.take()?,
            attested_legitimate_purpose: c.take()?,
            attested_per_agreements: c.take()?,
            attested_indemnifies_platform: c.take()?,
            version: c.take()?,
        })
    }
}

impl ByPosition for reseller::Model {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            partner_id: c.take()?,
            tenant_id: c.take()?,
            company_name: c.take()?,
            contact_email: c.take()?,
            country_code: c.take()?,
            preferred_language: c.take()?,
            account_kind: c.take()?,
            mpa_active: c.take()?,
            created_at: c.take()?,
            updated_at: c.take()?,
            version: c.take()?,
        })
    }
}
