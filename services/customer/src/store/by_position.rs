//! Customers read by column position, on the hot reads (see
//! `twotier_platform::by_position`). A select of an entity lists its
//! columns in the order of the entity's `Column` enum, which is the order
//! of the model's fields; the test
//! `customers_read_by_position_equal_customers_read_by_name` holds the
//! ways to read them to the same answer.

use sea_orm::DbErr;
pub use twotier_platform::by_position::{ByPosition, Columns, Row, all, one, one_owned};

use super::entities::customer;

// Fields are listed in the model's order: a struct expression evaluates
// its fields in the order written, so each `take` reads the next column.

impl ByPosition for customer::Model {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            id: c.take()?,
            provider_id: c.take()?,
            company_name: c.take()?,
            company_name_key: c.take()?,
            domain_prefix: c.take()?,
            address_line1: c.take()?,
            address_line2: c.take()?,
            city: c.take()?,
            region: c.take()?,
            postal_code: c.take()?,
            country_code: c.take()?,
            contact_first_name: c.take()?,
            contact_last_name: c.take()?,
            contact_email: c.take()?,
            contact_phone: c.take()?,
            language_code: c.take()?,
            reseller_partner_id: c.take()?,
            agreement_accepted: c.take()?,
            created_by: c.take()?,
            created_at: c.take()?,
            version: c.take()?,
        })
    }
}
