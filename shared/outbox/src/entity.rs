//! Tables of the outbox (producer side) and of its consumers.

/// `outbox_event`: the events a service produced, in insertion order (`id`)
/// and, once sequenced, in log order (`position`).
pub mod outbox_event {
    use sea_orm::entity::prelude::*;

    /// One produced event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_event")]
    pub struct Model {
        /// Insertion order; not the log order.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The event's UUID.
        #[sea_orm(unique)]
        pub event_id: String,
        /// Log position; `None` until the sequencer assigns it.
        #[sea_orm(unique)]
        pub position: Option<i64>,
        /// Full protobuf name of the payload.
        pub event_type: String,
        /// Kind of aggregate, e.g. `partnership`.
        pub aggregate_type: String,
        /// Id of the aggregate.
        pub aggregate_id: String,
        /// Tenant the change was made for.
        pub tenant_id: String,
        /// When the command ran.
        pub occurred_at: DateTimeUtc,
        /// W3C `traceparent` of the command.
        pub traceparent: String,
        /// W3C `tracestate` of the command.
        pub tracestate: String,
        /// The encoded payload message.
        pub payload: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `consumer_cursor`: how far a consumer has handled an upstream log.
pub mod consumer_cursor {
    use sea_orm::entity::prelude::*;

    /// One consumer's position in one upstream log.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consumer_cursor")]
    pub struct Model {
        /// Name of the upstream log, e.g. `partnership`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub upstream: String,
        /// Highest position whose effects are committed.
        pub position: i64,
        /// When the cursor last moved.
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `dead_letter`: events a consumer set aside after repeated failures.
pub mod dead_letter {
    use sea_orm::entity::prelude::*;

    /// One parked event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dead_letter")]
    pub struct Model {
        /// The dead letter's UUID.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Name of the upstream log.
        pub upstream: String,
        /// Position of the event in the upstream log.
        pub position: i64,
        /// Event type, for listing.
        pub event_type: String,
        /// The encoded `EventEnvelope`.
        pub envelope: Vec<u8>,
        /// The handler's last error.
        pub error: String,
        /// Attempts made before parking.
        pub attempts: i32,
        /// `parked` or `replayed`.
        pub state: String,
        /// When the event was parked.
        pub created_at: DateTimeUtc,
        /// When it was replayed.
        pub replayed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
