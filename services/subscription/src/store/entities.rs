//! The subscription service's tables.

/// `offer`: the catalog (R14).
pub mod offer {
    use sea_orm::entity::prelude::*;

    /// One offer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer")]
    pub struct Model {
        /// Offer id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Product name.
        pub display_name: String,
        /// Description.
        pub description: String,
        /// Fewest licences.
        pub min_licenses: i32,
        /// Most licences.
        pub max_licenses: i32,
        /// JSON array of `monthly`/`annual`.
        pub terms: String,
        /// JSON array of `monthly`/`annual`.
        pub billing_cycles: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `cart`: a provider's cart for one customer (R15).
pub mod cart {
    use sea_orm::entity::prelude::*;

    /// One cart.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cart")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// The customer's resource name.
        pub customer: String,
        /// `open`, `ordered` or `cancelled`.
        pub state: String,
        /// `sub` of who attested acting as indirect provider.
        pub attested_by: Option<String>,
        /// When.
        pub attested_at: Option<DateTimeUtc>,
        /// The order placed from it.
        pub order_id: Option<String>,
        /// Creation instant.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
        /// Optimistic concurrency version.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `cart_line`: what a cart holds.
pub mod cart_line {
    use sea_orm::entity::prelude::*;

    /// One line item.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cart_line")]
    pub struct Model {
        /// UUIDv7, so lines order by addition.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The cart.
        pub cart_id: String,
        /// The offer id.
        pub offer_id: String,
        /// Licences.
        pub quantity: i32,
        /// `monthly` or `annual`.
        pub term: String,
        /// `monthly` or `annual`.
        pub billing_cycle: String,
        /// Reseller of record.
        pub reseller_partner_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `purchase_order`: placed orders.
pub mod purchase_order {
    use sea_orm::entity::prelude::*;

    /// One order; at most one per cart.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "purchase_order")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// The customer's resource name.
        pub customer: String,
        /// The cart it came from.
        #[sea_orm(unique)]
        pub cart_id: String,
        /// `sub` of who placed it.
        pub placed_by: String,
        /// When.
        pub created_at: DateTimeUtc,
        /// The order as placed (an encoded `twotier.subscription.v1.Order`);
        /// orders never change, so this is what `GetOrder` answers.
        pub snapshot: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `subscription`: customers' subscriptions (R15-R19, R26-R28).
pub mod subscription {
    use sea_orm::entity::prelude::*;

    /// One subscription.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subscription")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// The customer's resource name.
        pub customer: String,
        /// The order that created it.
        pub order_id: String,
        /// The offer id.
        pub offer_id: String,
        /// Licences.
        pub quantity: i32,
        /// `monthly` or `annual`.
        pub term: String,
        /// `monthly` or `annual`.
        pub billing_cycle: String,
        /// Reseller of record.
        pub reseller_partner_id: Option<String>,
        /// Support contact.
        pub support_contact_partner_id: Option<String>,
        /// `active`, `suspended` or `cancelled`.
        pub state: String,
        /// Whether it renews.
        pub auto_renew: bool,
        /// End of the cancellation window; empty only in rows written
        /// before it existed by a replica that did not know it.
        pub cancellation_deadline: Option<DateTimeUtc>,
        /// Creation instant.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
        /// Optimistic concurrency version.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
