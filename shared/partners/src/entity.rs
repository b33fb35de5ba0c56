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
        /// Whether the PartnerID is a location account (R3).
        pub location_account: bool,
        /// Whether the reseller's Microsoft Partner Agreement is active (R3).
        pub mpa_active: bool,
    }

    impl Model {
        /// R3 on the reseller as last seen: a location account with an
        /// active MPA, else the same failure `VerifyPartnerId` gives.
        pub fn eligibility(&self) -> Result<(), crate::eligibility::Ineligible> {
            let kind = if self.location_account {
                crate::eligibility::AccountKind::Location
            } else {
                crate::eligibility::AccountKind::Global
            };
            crate::eligibility::check(&self.partner_id, kind, self.mpa_active)
        }
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

/// `partner_provider`: listed providers as their listings last named them.
pub mod partner_provider {
    use sea_orm::entity::prelude::*;

    /// One listed provider.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "partner_provider")]
    pub struct Model {
        /// The provider's tenant id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: String,
        /// The listing's display name.
        pub display_name: String,
        /// Upstream position of the last change applied.
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
