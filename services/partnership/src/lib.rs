//! The partnership service (port 50051): the official list of indirect
//! providers, onboarded indirect resellers and PartnerID verification,
//! invitations and partnerships (rules R1-R8 of DOMAIN.md). It owns its
//! database and publishes its events through its outbox log.

pub mod api;
pub mod domain;
pub mod store;

use twotier_outbox::audit::AuditLog;
use twotier_outbox::{EventLog, Outbox};
use twotier_platform::paging::PageTokens;
use twotier_platform::server::GrpcServer;
use twotier_platform::startup::{
    ServiceContext, ServiceDefinition, StartError, migrate_database, open_database, open_readers,
};
use twotier_proto::partnership::partnership_service_server::PartnershipServiceServer;
use twotier_proto::partnership::provider_listing_service_server::ProviderListingServiceServer;
use twotier_proto::partnership::reseller_service_server::ResellerServiceServer;

use crate::api::{Api, PartnershipSettings, access};
use crate::store::migration::Migrator;

/// The partnership service, as the binaries start it.
pub struct PartnershipService;

impl ServiceDefinition for PartnershipService {
    const NAME: &'static str = "partnership";
    const PORT: u16 = 50051;
    const METRICS_PORT: u16 = 9461;

    async fn migrate(ctx: &ServiceContext) -> Result<(), StartError> {
        migrate_database::<Migrator>(ctx, Self::NAME).await
    }

    async fn build(ctx: &ServiceContext) -> Result<GrpcServer, StartError> {
        let settings: PartnershipSettings = twotier_platform::config::load(&ctx.env, Self::NAME)?;
        let db = open_database::<Migrator>(ctx, Self::NAME).await?;
        let reads = open_readers(ctx, Self::NAME, &db).await?;
        let outbox = Outbox::new(db.clone()).with_reads(reads);
        let log = EventLog::start(ctx, &outbox).await?;
        ctx.spawn(twotier_platform::idempotency::prune_periodically(
            db,
            ctx.shutdown.clone(),
        ));

        let pages = PageTokens::of(&ctx.identity);
        let audit = AuditLog::start(ctx, outbox.db().clone(), pages.clone());
        let api = Api::new(outbox.clone(), settings, ctx.capabilities.clone(), pages);
        let mut grpc = ctx.grpc_server();
        grpc.record_door_refusals(audit.door_refusals());
        grpc.monitor_database(outbox.db().clone());
        grpc.add_service(
            ProviderListingServiceServer::new(api.clone()),
            access::LISTING_RULES,
        )
        .add_service(
            ResellerServiceServer::new(api.clone()),
            access::RESELLER_RULES,
        )
        .add_service(
            PartnershipServiceServer::new(api),
            access::PARTNERSHIP_RULES,
        )
        .add_service(audit.into_service(), AuditLog::RULES)
        .add_service(log.into_service(), EventLog::RULES);
        Ok(grpc)
    }
}
