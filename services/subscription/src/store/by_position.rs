//! Carts, their lines and offers read by column position, on the reads
//! every checkout makes (see `twotier_platform::by_position`): on SQLite
//! in the calling thread, on PostgreSQL on a held connection. A select of
//! an entity lists its columns in the order of the entity's `Column` enum,
//! which is the order of the model's fields; the test
//! `carts_lines_and_offers_read_by_position_equal_those_read_by_name`
//! holds the ways to read them to the same answer.

use sea_orm::DbErr;
pub use twotier_platform::by_position::{ByPosition, Columns, Row, all, one_owned};

use super::entities::{cart, cart_line, offer};

// Fields are listed in the model's order: a struct expression evaluates
// its fields in the order written, so each `take` reads the next column.

impl ByPosition for cart::Model {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            id: c.take()?,
            provider_id: c.take()?,
            customer: c.take()?,
            state: c.take()?,
            attested_by: c.take()?,
            attested_at: c.take()?,
            order_id: c.take()?,
            created_at: c.take()?,
            updated_at: c.take()?,
            version: c.take()?,
        })
    }
}

impl ByPosition for cart_line::Model {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            id: c.take()?,
            cart_id: c.take()?,
            offer_id: c.take()?,
            quantity: c.take()?,
            term: c.take()?,
            billing_cycle: c.take()?,
            reseller_partner_id: c.take()?,
        })
    }
}

impl ByPosition for offer::Model {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            id: c.take()?,
            display_name: c.take()?,
            description: c.take()?,
            min_licenses: c.take()?,
            max_licenses: c.take()?,
            terms: c.take()?,
            billing_cycles: c.take()?,
        })
    }
}
