//! Projection tables.

/// `partner_reseller`: onboarded resellers as last seen.
pub mod partner_reseller {
    use sea_orm::entity::prelude::*;

    /// One reseller.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "partner_reseller")]
    pub struct Model {
        /// PartnerID.
        #[sea_orm(primary_key, auto_increment = false)]
        pub partner_id: String,
        /// The reseller's tenant id.
        pub tenant_id: String,
        /// Company name.
        pub company_name: String,
        /// Contact email.
        pub contact_email: String,
        /// `en` or `de`.
        pub preferred_language: String,
        /// Upstream position of the last change applied.
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `partner_partnership`: each provider-reseller pair's latest partnership.
pub mod partner_partnership {
    use sea_orm::entity::prelude::*;

    /// One provider-reseller pair.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "partner_partnership")]
    pub struct Model {
        /// The provider's tenant id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: String,
        /// The reseller's PartnerID.
        #[sea_orm(primary_key, auto_increment = false)]
        pub partner_id: String,
        /// The latest partnership's resource name.
        pub partnership: String,
        /// Whether that partnership is active.
        pub active: bool,
        /// When it became active or was removed.
        pub state_changed_at: DateTimeUtc,
        /// Upstream position of the last change applied.
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
