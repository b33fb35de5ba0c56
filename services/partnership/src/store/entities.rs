//! The partnership service's tables.

/// `provider_listing`: the official list of indirect providers (R1).
pub mod provider_listing {
    use sea_orm::entity::prelude::*;

    /// One listed provider.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provider_listing")]
    pub struct Model {
        /// The provider's tenant id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: String,
        /// Company name shown in the list.
        pub display_name: String,
        /// Lower-cased display name, the sort key.
        pub display_name_key: String,
        /// JSON array of ISO 3166-1 alpha-2 codes.
        pub markets: String,
        /// JSON array of region names.
        pub regions: String,
        /// Contact email address.
        pub contact_email: String,
        /// Contact phone, may be empty.
        pub contact_phone: String,
        /// Website, may be empty.
        pub website_uri: String,
        /// `en` or `de`.
        pub preferred_language: String,
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

/// `reseller`: indirect resellers onboarded to the CSP programme (R2).
pub mod reseller {
    use sea_orm::entity::prelude::*;

    /// One onboarded reseller.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reseller")]
    pub struct Model {
        /// PartnerID of the onboarded account.
        #[sea_orm(primary_key, auto_increment = false)]
        pub partner_id: String,
        /// The reseller's tenant id (its users' `tid`).
        #[sea_orm(unique)]
        pub tenant_id: String,
        /// Legal company name.
        pub company_name: String,
        /// Contact email address.
        pub contact_email: String,
        /// ISO 3166-1 alpha-2.
        pub country_code: String,
        /// `en` or `de`.
        pub preferred_language: String,
        /// `location` or `global`.
        pub account_kind: String,
        /// Whether the Microsoft Partner Agreement is active.
        pub mpa_active: bool,
        /// Onboarding instant.
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

/// `invitation`: a provider's partnership requests (R4).
pub mod invitation {
    use sea_orm::entity::prelude::*;

    /// One invitation. The token itself is never stored, only its hash.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invitation")]
    pub struct Model {
        /// UUIDv7, so ids order by creation.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The inviting provider's tenant id.
        pub provider_id: String,
        /// SHA-256 of the token, hex.
        #[sea_orm(unique)]
        pub token_hash: String,
        /// Invited address.
        pub reseller_email: String,
        /// Language of the draft.
        pub language_code: String,
        /// `pending`, `accepted` or `revoked` (expiry is derived).
        pub state: String,
        /// `sub` of the inviting user.
        pub created_by: String,
        /// Email of the inviting user, if the token carried one.
        pub created_by_email: String,
        /// Creation instant.
        pub created_at: DateTimeUtc,
        /// Expiry instant.
        pub expires_at: DateTimeUtc,
        /// Acceptance instant.
        pub accepted_at: Option<DateTimeUtc>,
        /// The partnership created on acceptance.
        pub partnership_id: Option<String>,
        /// Revocation instant.
        pub revoked_at: Option<DateTimeUtc>,
        /// Optimistic concurrency version.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `partnership`: provider-reseller relationships (R5-R8).
pub mod partnership {
    use sea_orm::entity::prelude::*;

    /// One partnership, active or removed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "partnership")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// The reseller's PartnerID.
        pub partner_id: String,
        /// `active` or `removed`.
        pub state: String,
        /// The reseller's company name, kept in step with the reseller, for
        /// listing and filtering without a join.
        pub company_name: String,
        /// Lower-cased company name, the sort and filter key.
        pub company_name_key: String,
        /// The accepted invitation.
        pub invitation_id: String,
        /// Acceptance instant.
        pub accepted_at: DateTimeUtc,
        /// `sub` of the accepting reseller admin.
        pub accepted_by: String,
        /// When `state` last changed.
        pub state_changed_at: DateTimeUtc,
        /// Removal instant.
        pub removed_at: Option<DateTimeUtc>,
        /// `sub` of the removing provider user.
        pub removed_by: Option<String>,
        /// Attestation: good faith.
        pub attested_good_faith: bool,
        /// Attestation: legitimate business purpose.
        pub attested_legitimate_purpose: bool,
        /// Attestation: per the provider's agreements.
        pub attested_per_agreements: bool,
        /// Attestation: the provider indemnifies the platform.
        pub attested_indemnifies_platform: bool,
        /// Optimistic concurrency version.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The reseller partnered with, read with the partnership when a
        /// list shows both.
        #[sea_orm(
            belongs_to = "super::reseller::Entity",
            from = "Column::PartnerId",
            to = "super::reseller::Column::PartnerId"
        )]
        Reseller,
    }

    impl Related<super::reseller::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Reseller.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
