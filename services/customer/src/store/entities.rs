//! The customer service's tables.

/// `customer`: end-customer organisations (R9).
pub mod customer {
    use sea_orm::entity::prelude::*;

    /// One customer. No credentials are stored, in any form (R11).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// Company name.
        pub company_name: String,
        /// Lower-cased company name, the sort key.
        pub company_name_key: String,
        /// Initial domain prefix, unique across all customers.
        #[sea_orm(unique)]
        pub domain_prefix: String,
        /// Address line 1.
        pub address_line1: String,
        /// Address line 2.
        pub address_line2: String,
        /// City.
        pub city: String,
        /// Region.
        pub region: String,
        /// Postal code.
        pub postal_code: String,
        /// ISO 3166-1 alpha-2.
        pub country_code: String,
        /// Contact first name.
        pub contact_first_name: String,
        /// Contact last name.
        pub contact_last_name: String,
        /// Contact email.
        pub contact_email: String,
        /// Contact phone.
        pub contact_phone: String,
        /// `en` or `de`.
        pub language_code: String,
        /// PartnerID of the reseller it is delegated to, if any.
        pub reseller_partner_id: Option<String>,
        /// Whether the Microsoft Customer Agreement is recorded.
        pub agreement_accepted: bool,
        /// `sub` of the creating provider user.
        pub created_by: String,
        /// Creation instant.
        pub created_at: DateTimeUtc,
        /// Optimistic concurrency version.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `delegated_admin`: administration delegated to a reseller (R9).
pub mod delegated_admin {
    use sea_orm::entity::prelude::*;

    /// One delegation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "delegated_admin")]
    pub struct Model {
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// The reseller's PartnerID.
        #[sea_orm(primary_key, auto_increment = false)]
        pub partner_id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// The reseller's company name when granted.
        pub reseller_company_name: String,
        /// When granted.
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `customer_agreement`: the provider's attestation of the customer's
/// acceptance of the Microsoft Customer Agreement (R12).
pub mod customer_agreement {
    use sea_orm::entity::prelude::*;

    /// One customer's attestation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_agreement")]
    pub struct Model {
        /// The customer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// Signatory first name.
        pub signatory_first_name: String,
        /// Signatory last name.
        pub signatory_last_name: String,
        /// Signatory email.
        pub signatory_email: String,
        /// Signatory phone.
        pub signatory_phone: String,
        /// `YYYY-MM-DD`.
        pub date_agreed: String,
        /// `sub` of the recording provider user.
        pub recorded_by: String,
        /// When recorded.
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `relationship_request`: a provider's request to a customer's admin for a
/// reseller relationship (R22). Only the token's hash is stored.
pub mod relationship_request {
    use sea_orm::entity::prelude::*;

    /// One request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "relationship_request")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider's tenant id.
        pub provider_id: String,
        /// The customer.
        pub customer_id: String,
        /// SHA-256 of the link's token, hex.
        #[sea_orm(unique)]
        pub token_hash: String,
        /// The reseller's PartnerID.
        pub partner_id: String,
        /// The reseller's company name when requested.
        pub reseller_company_name: String,
        /// The customer admin's address.
        pub admin_email: String,
        /// `en` or `de`.
        pub language_code: String,
        /// `sub` of the requesting provider user.
        pub created_by: String,
        /// Email of the requesting provider user, may be empty.
        pub created_by_email: String,
        /// Creation instant.
        pub created_at: DateTimeUtc,
        /// Expiry instant.
        pub expires_at: DateTimeUtc,
        /// `pending`, `accepted` or `revoked` (expiry is not stored).
        pub state: String,
        /// When accepted.
        pub accepted_at: Option<DateTimeUtc>,
        /// `sub` of the accepting customer admin.
        pub accepted_by: Option<String>,
        /// When revoked.
        pub revoked_at: Option<DateTimeUtc>,
        /// Optimistic concurrency version.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
