//! The customer service (port 50052): customers added by a provider,
//! possibly for one of its indirect resellers, delegated admin
//! relationships and the customer's consent to them, and customer
//! agreements (rules R9-R13 and R22-R24 of DOMAIN.md). It
//! owns its database, keeps its own projection of the partnership service's
//! events, and publishes its events through its outbox log.

pub mod api;
pub mod domain;
pub mod store;

use std::collections::HashMap;

use twotier_outbox::audit::AuditLog;
use twotier_outbox::{Consumer, ConsumerSettings, DeadLetters, EventLog, Outbox};
use twotier_partners::PartnerDirectory;
use twotier_platform::channel::ClientChannels;
use twotier_platform::paging::PageTokens;
use twotier_platform::server::GrpcServer;
use twotier_platform::startup::{
    ServiceContext, ServiceDefinition, StartError, migrate_database, open_database, open_readers,
};
use twotier_proto::customer::customer_service_server::CustomerServiceServer;

use crate::api::{Api, CustomerSettings, access};
use crate::store::migration::Migrator;

/// The customer service, as the binaries start it.
pub struct CustomerService;

impl ServiceDefinition for CustomerService {
    const NAME: &'static str = "customer";
    const PORT: u16 = 50052;
    const METRICS_PORT: u16 = 9462;

    async fn migrate(ctx: &ServiceContext) -> Result<(), StartError> {
        migrate_database::<Migrator>(ctx, Self::NAME).await
    }

    async fn build(ctx: &ServiceContext) -> Result<GrpcServer, StartError> {
        let settings: CustomerSettings = twotier_platform::config::load(&ctx.env, Self::NAME)?;
        let db = open_database::<Migrator>(ctx, Self::NAME).await?;
        let reads = open_readers(ctx, Self::NAME, &db).await?;
        let outbox = Outbox::new(db.clone()).with_reads(reads);
        let log = EventLog::start(ctx, &outbox).await?;
        ctx.spawn(twotier_platform::idempotency::prune_periodically(
            db.clone(),
            ctx.shutdown.clone(),
        ));

        let channels = ClientChannels::from_settings(&ctx.settings)?;
        let partner_events = twotier_partners::handlers();
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
            db.clone(),
            HashMap::from([(twotier_partners::UPSTREAM.to_owned(), partner_events)]),
            pages.clone(),
        );

        let audit = AuditLog::start(ctx, db.clone(), pages.clone());
        let api = Api::new(
            outbox.clone(),
            directory,
            settings,
            ctx.capabilities.clone(),
            pages,
        );
        let mut grpc = ctx.grpc_server();
        grpc.record_door_refusals(audit.door_refusals());
        grpc.monitor_database(outbox.db().clone());
        grpc.add_service(CustomerServiceServer::new(api), access::CUSTOMER_RULES)
            .add_service(dead_letters.into_service(), DeadLetters::RULES)
            .add_service(audit.into_service(), AuditLog::RULES)
            .add_service(log.into_service(), EventLog::RULES);
        Ok(grpc)
    }
}
