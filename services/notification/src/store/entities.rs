//! The notification service's tables.

/// `notification`: one email, rendered, with its delivery state (R21).
pub mod notification {
    use sea_orm::entity::prelude::*;

    /// One email. Unique per source event, recipient and template, so an
    /// event handled twice cannot produce a second email.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The provider tenant it concerns.
        pub tenant_id: String,
        /// Recipient address.
        pub recipient: String,
        /// Template name.
        pub template: String,
        /// `en` or `de`.
        pub language: String,
        /// Rendered subject.
        pub subject: String,
        /// Rendered body.
        pub body: String,
        /// `pending`, `sent` or `failed`.
        pub status: String,
        /// Delivery attempts so far.
        pub attempts: i32,
        /// When the next attempt is due.
        pub next_attempt_at: DateTimeUtc,
        /// A dispatcher's claim, so replicas do not send the same email.
        pub lease_until: Option<DateTimeUtc>,
        /// Last delivery error.
        pub last_error: String,
        /// Upstream log of the source event.
        pub source_upstream: String,
        /// Source event id.
        pub source_event_id: String,
        /// Source event type.
        pub source_event_type: String,
        /// Source event position.
        pub source_position: i64,
        /// When recorded.
        pub created_at: DateTimeUtc,
        /// When sent.
        pub sent_at: Option<DateTimeUtc>,
        /// W3C `traceparent` of the event handling that recorded it, so the
        /// send joins the trace of the command that caused it.
        pub traceparent: String,
        /// W3C `tracestate` to go with it.
        pub tracestate: String,
        /// `<kind>:<id>` of the capability token the body's marker stands
        /// for (an invitation link), put in only when the email is sent.
        pub sealed_link: Option<String>,
        pub about: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `delivery_attempt`: each try to hand an email to the mail server.
pub mod delivery_attempt {
    use sea_orm::entity::prelude::*;

    /// One attempt.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "delivery_attempt")]
    pub struct Model {
        /// The notification.
        #[sea_orm(primary_key, auto_increment = false)]
        pub notification_id: String,
        /// 1 for the first attempt.
        #[sea_orm(primary_key, auto_increment = false)]
        pub attempt: i32,
        /// When.
        pub attempted_at: DateTimeUtc,
        /// `delivered`, `transient_failure` or `permanent_failure`.
        pub outcome: String,
        /// Error text, empty on success.
        pub error: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `provider_profile`: how to address a provider, projected from
/// partnership events (listings and acceptances).
pub mod provider_profile {
    use sea_orm::entity::prelude::*;

    /// One provider.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provider_profile")]
    pub struct Model {
        /// The provider's tenant id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: String,
        /// Display name.
        pub display_name: String,
        /// Contact address from its listing, may be empty.
        pub contact_email: String,
        /// `en` or `de`.
        pub language: String,
        /// Log position of the listing event the profile was taken from.
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
