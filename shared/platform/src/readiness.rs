//! Ready or not. A process is *alive* as long as it answers (the
//! `liveness` health service is always SERVING, so an orchestrator never
//! restarts a pod because its database is down) and *ready* while its
//! schema is migrated and its database answers (the overall and per-service
//! health statuses). A service that starts while its database is down
//! keeps trying to migrate in the background and refuses calls with
//! `UNAVAILABLE` until it can serve them.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service};

use crate::error::Error;

/// The health service name that reports only that the process is alive.
pub const LIVENESS: &str = "liveness";

/// Whether a service's schema is migrated.
#[derive(Clone, Debug)]
pub struct Schema(Arc<watch::Sender<bool>>);

impl Schema {
    /// A schema not migrated yet.
    pub fn pending() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }

    /// A schema nobody has to wait for (a server without a database).
    pub fn ready() -> Self {
        let schema = Self::pending();
        schema.mark_ready();
        schema
    }

    /// The schema is migrated: the service may serve.
    pub fn mark_ready(&self) {
        self.0.send_replace(true);
    }

    /// Whether the schema is migrated.
    pub fn is_ready(&self) -> bool {
        *self.0.borrow()
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

/// Refuses every call but health and reflection until the schema is ready.
#[derive(Clone)]
pub(crate) struct ReadyLayer {
    schema: Schema,
}

impl ReadyLayer {
    pub(crate) fn new(schema: Schema) -> Self {
        Self { schema }
    }
}

impl<S> Layer<S> for ReadyLayer {
    type Service = Ready<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Ready {
            inner,
            schema: self.schema.clone(),
        }
    }
}

/// The service [`ReadyLayer`] produces.
#[derive(Clone)]
pub(crate) struct Ready<S> {
    inner: S,
    schema: Schema,
}

impl<S> Service<http::Request<Body>> for Ready<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if self.schema.is_ready() || crate::auth::is_public(request.uri().path()) {
            return self.inner.call(request).boxed();
        }
        let status = tonic::Status::from(Error::Unavailable {
            reason: "SERVICE_STARTING",
            message: "the service is starting (its database is not reachable yet); retry later"
                .into(),
        });
        futures::future::ready(Ok(status.into_http())).boxed()
    }
}

/// How often the database is pinged for health reporting.
const DATABASE_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Keeps the health statuses of `names` (and the overall one) SERVING while
/// the schema is ready and `db` (if any) answers, NOT_SERVING otherwise,
/// until `shutdown`.
pub(crate) async fn monitor(
    db: Option<sea_orm::DatabaseConnection>,
    schema: Schema,
    health: HealthReporter,
    names: Vec<&'static str>,
    shutdown: CancellationToken,
) {
    let mut migrated = schema.subscribe();
    let mut serving = None;
    loop {
        let reachable = match &db {
            Some(db) => tokio::time::timeout(DATABASE_CHECK_EVERY, crate::db::ping(db))
                .await
                .unwrap_or(false),
            None => true,
        };
        if shutdown.is_cancelled() {
            return;
        }
        let ready = reachable && *migrated.borrow_and_update();
        if serving != Some(ready) {
            match (serving, ready) {
                (Some(false), true) => tracing::info!("database reachable again; serving"),
                (_, false) if !reachable => {
                    tracing::warn!("database unreachable; reporting not serving");
                }
                _ => {}
            }
            serving = Some(ready);
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for name in names.iter().copied().chain([""]) {
                health.set_service_status(name, status).await;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(DATABASE_CHECK_EVERY) => {},
            _ = migrated.changed() => {},
        }
    }
}
