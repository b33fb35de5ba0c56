//! Partnerships and resellers read by column position, on the hot reads.
//!
//! sea-orm finds each column of a model by name: it builds that name with
//! `format!` for every value of every row, and sqlx then searches the
//! row's columns for it. On a list page of 50 partnerships with their
//! resellers that was 30 % of the process's CPU, 11 % in `format!` alone
//! (docs/benchmarks.md). The reads a caller makes most (a partnership, a
//! reseller, a page of indirect resellers) decode by position instead. A
//! select of an entity lists its columns in the order of the entity's
//! `Column` enum, which is the order of the model's fields; the test
//! `models_read_by_position_equal_models_read_by_name` holds the two ways
//! to the same answer.

use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, QueryResult, QuerySelect, QueryTrait, Select, TryGetable,
};

use super::entities::{partnership, reseller};

/// A model read from a row that holds its columns and nothing else.
pub trait ByPosition: Sized {
    /// The model in `row`.
    fn from_row(row: &QueryResult) -> Result<Self, DbErr>;
}

/// The columns of one row, taken in the order they were selected.
pub struct Columns<'a> {
    row: &'a QueryResult,
    next: usize,
}

impl<'a> Columns<'a> {
    /// The columns of `row`, from the first.
    pub fn of(row: &'a QueryResult) -> Self {
        Self { row, next: 0 }
    }

    /// The next column's value.
    pub fn take<T: TryGetable>(&mut self) -> Result<T, DbErr> {
        let value = self.row.try_get_by_index(self.next);
        self.next += 1;
        value
    }
}

// Fields are listed in the model's order: a struct expression evaluates
// its fields in the order written, so each `take` reads the next column.

impl ByPosition for partnership::Model {
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
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
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
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

/// Every row `select` returns, each decoded by `decode`.
pub async fn all<T>(
    db: &impl ConnectionTrait,
    select: impl QueryTrait,
    decode: impl Fn(&QueryResult) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    let statement = select.build(db.get_database_backend());
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// The first row `select` returns, as its entity's model.
pub async fn one<E>(db: &impl ConnectionTrait, select: Select<E>) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    let statement = select.limit(1).build(db.get_database_backend());
    let row = db.query_one_raw(statement).await?;
    row.map(|row| E::Model::from_row(&row)).transpose()
}
