//! The subscription service (port 50053): the offer catalog, carts and
//! checkout, orders and subscriptions with their reseller of record,
//! support contact and lifecycle (rules R14-R19, R24-R28 of DOMAIN.md). It owns its database,
//! reads the customer and partnership services fresh at command time, keeps
//! its own projection of partnership events and publishes its events
//! through its outbox log.

pub mod api;
pub mod domain;
pub mod store;

use std::collections::HashMap;
use std::sync::Arc;

use twotier_outbox::audit::AuditLog;
use twotier_outbox::{Consumer, ConsumerSettings, DeadLetters, EventHandler, EventLog, Outbox};
use twotier_partners::PartnerDirectory;
use twotier_platform::channel::ClientChannels;
use twotier_platform::paging::PageTokens;
use twotier_platform::server::GrpcServer;
use twotier_platform::startup::{
    ServiceContext, ServiceDefinition, StartError, migrate_database, open_database, open_readers,
};
use twotier_platform::upstream::{DEFAULT_DEADLINE, Upstream};
use twotier_proto::subscription::subscription_service_server::SubscriptionServiceServer;

use crate::api::{Api, SubscriptionSettings, Upstreams, access};
use crate::store::migration::Migrator;

/// The subscription service, as the binaries start it.
pub struct SubscriptionService;

impl ServiceDefinition for SubscriptionService {
    const NAME: &'static str = "subscription";
    const PORT: u16 = 50053;
    const METRICS_PORT: u16 = 9463;

    async fn migrate(ctx: &ServiceContext) -> Result<(), StartError> {
        migrate_database::<Migrator>(ctx, Self::NAME).await
    }

    async fn build(ctx: &ServiceContext) -> Result<GrpcServer, StartError> {
        let settings: SubscriptionSettings = twotier_platform::config::load(&ctx.env, Self::NAME)?;
        let db = open_database::<Migrator>(ctx, Self::NAME).await?;
        let reads = open_readers(ctx, Self::NAME, &db).await?;
        let outbox = Outbox::new(db.clone()).with_reads(reads);
        let log = EventLog::start(ctx, &outbox).await?;
        ctx.spawn(twotier_platform::idempotency::prune_periodically(
            db.clone(),
            ctx.shutdown.clone(),
        ));

        let channels = ClientChannels::from_settings(&ctx.settings)?;
        let partner_events: Arc<dyn EventHandler> = twotier_partners::handlers();
        let consumer = Consumer::new(
            db.clone(),
            partner_events.clone(),
            ConsumerSettings::new(
                twotier_partners::UPSTREAM,
                &ctx.settings.partnership_endpoint,
                &channels,
                ctx.settings.consumer_max_attempts,
            ),
            ctx.service_tokens.clone(),
        );
        let directory = PartnerDirectory::new(db.clone(), Some(consumer.freshness()));
        ctx.spawn(consumer.run(ctx.shutdown.clone()));
        let pages = PageTokens::of(&ctx.identity);
        let dead_letters = DeadLetters::new(
            db,
            HashMap::from([(twotier_partners::UPSTREAM.to_owned(), partner_events)]),
            pages.clone(),
        );

        let upstream = Upstreams::new(
            Upstream::new(
                "customer",
                &channels,
                &ctx.settings.customer_endpoint,
                DEFAULT_DEADLINE,
                ctx.service_tokens.clone(),
            )?,
            Upstream::new(
                "partnership",
                &channels,
                &ctx.settings.partnership_endpoint,
                DEFAULT_DEADLINE,
                ctx.service_tokens.clone(),
            )?,
        );
        let audit = AuditLog::start(ctx, outbox.db().clone(), pages.clone());
        let api = Api::new(
            outbox.clone(),
            directory,
            upstream,
            pages,
            settings.window(),
        );
        let mut grpc = ctx.grpc_server();
        grpc.record_door_refusals(audit.door_refusals());
        grpc.monitor_database(outbox.db().clone());
        grpc.add_service(
            SubscriptionServiceServer::new(api),
            access::SUBSCRIPTION_RULES,
        )
        .add_service(dead_letters.into_service(), DeadLetters::RULES)
        .add_service(audit.into_service(), AuditLog::RULES)
        .add_service(log.into_service(), EventLog::RULES);
        Ok(grpc)
    }
}
