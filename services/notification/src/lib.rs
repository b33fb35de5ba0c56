//! The notification service (port 50054): the emails of R20, produced from
//! the partnership, customer and subscription services' events (one cursor
//! per upstream, stored with the effects), rendered from templates in the
//! recipient's language and delivered by SMTP or, on the embedded default,
//! written as `.eml` files into a mail folder (R21). Each delivery attempt
//! is published in the service's own log (`EmailSent`, `EmailFailed`,
//! R30), written with the delivery record.

pub mod api;
pub mod domain;
pub mod events;
pub mod mail;
pub mod store;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Notify;
use twotier_outbox::audit::AuditLog;
use twotier_outbox::{Consumer, ConsumerSettings, DeadLetters, EventHandler, EventLog, Outbox};
use twotier_platform::channel::ClientChannels;
use twotier_platform::paging::PageTokens;
use twotier_platform::server::GrpcServer;
use twotier_platform::startup::{
    ServiceContext, ServiceDefinition, StartError, migrate_database, open_database, open_readers,
};
use twotier_proto::notification::notification_service_server::NotificationServiceServer;

use crate::api::{Api, access};
use crate::domain::Templates;
use crate::events::upstream;
use crate::mail::{Dispatcher, MailSettings, mailer_from};
use crate::store::migration::Migrator;

/// The notification service, as the binaries start it.
pub struct NotificationService;

impl ServiceDefinition for NotificationService {
    const NAME: &'static str = "notification";
    const PORT: u16 = 50054;
    const METRICS_PORT: u16 = 9464;

    async fn migrate(ctx: &ServiceContext) -> Result<(), StartError> {
        migrate_database::<Migrator>(ctx, Self::NAME).await
    }

    async fn build(ctx: &ServiceContext) -> Result<GrpcServer, StartError> {
        let mail: MailSettings = twotier_platform::config::load(&ctx.env, Self::NAME)?;
        let mailer = mailer_from(&mail, &ctx.settings.data_dir).map_err(StartError::Other)?;
        let db = open_database::<Migrator>(ctx, Self::NAME).await?;
        let reads = open_readers(ctx, Self::NAME, &db).await?;
        let outbox = Outbox::new(db.clone()).with_reads(reads);
        let log = EventLog::start(ctx, &outbox).await?;
        let templates = Arc::new(Templates::new());
        let channels = ClientChannels::from_settings(&ctx.settings)?;

        let handlers: [(&str, &str, Arc<dyn EventHandler>); 3] = [
            (
                upstream::PARTNERSHIP,
                &ctx.settings.partnership_endpoint,
                Arc::new(events::partnership(&templates)),
            ),
            (
                upstream::CUSTOMER,
                &ctx.settings.customer_endpoint,
                Arc::new(events::customer(&templates)),
            ),
            (
                upstream::SUBSCRIPTION,
                &ctx.settings.subscription_endpoint,
                Arc::new(events::subscription(&templates)),
            ),
        ];
        // New notifications wake the dispatcher the moment they commit.
        let recorded = Arc::new(Notify::new());
        let mut replayable = HashMap::new();
        for (name, endpoint, handler) in handlers {
            let settings = ConsumerSettings::new(
                name,
                endpoint,
                &channels,
                ctx.settings.consumer_max_attempts,
            );
            let consumer = Consumer::new(
                db.clone(),
                handler.clone(),
                settings,
                ctx.service_tokens.clone(),
            )
            .notify_when_applied(recorded.clone());
            ctx.spawn(consumer.run(ctx.shutdown.clone()));
            replayable.insert(name.to_owned(), handler);
        }

        let dispatcher = Dispatcher::new(
            outbox.clone(),
            mailer,
            ctx.capabilities.clone(),
            recorded,
            &mail,
        );
        ctx.spawn(dispatcher.run(ctx.shutdown.clone()));
        ctx.spawn(mail::sample_queue(db.clone(), ctx.shutdown.clone()));

        let mut grpc = ctx.grpc_server();
        grpc.monitor_database(db.clone());
        let pages = PageTokens::of(&ctx.identity);
        let audit = AuditLog::start(ctx, db.clone(), pages.clone());
        grpc.record_door_refusals(audit.door_refusals());
        grpc.add_service(
            NotificationServiceServer::new(Api::new(db.clone(), pages.clone())),
            access::NOTIFICATION_RULES,
        )
        .add_service(
            DeadLetters::new(db.clone(), replayable, pages.clone()).into_service(),
            DeadLetters::RULES,
        )
        .add_service(audit.into_service(), AuditLog::RULES)
        .add_service(log.into_service(), EventLog::RULES);
        Ok(grpc)
    }
}
