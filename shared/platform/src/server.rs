//! The gRPC server every service runs in: health and reflection (v1 and
//! v1alpha), TLS, connection limits, authentication, receiving requests,
//! fair admission, tracing, a request timeout and graceful shutdown,
//! applied in this one place to every service alike.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::Service;

use crate::admission::AdmissionLayer;
use prost::Message;

use crate::auth::{AuthLayer, DoorRefusals, Policy, Rule, TokenVerifier};
use crate::config::Settings;
use crate::connections::{ActiveStreamsLayer, ConnectionLimits, Connections};
use crate::deadline::DeadlineLayer;
use crate::readiness::{self, LIVENESS, ReadyLayer, Schema};
use crate::receive::ReceiveLayer;
use crate::tls::{ServerTlsFiles, TlsError};

/// Why a server could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The TLS files are missing or unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The transport failed (e.g. tonic refused the TLS configuration).
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
    /// A served method has no authorization rule.
    #[error("{0} has no authorization rule: add one beside the service's API")]
    UnruledMethod(String),
}

/// Limits applied to every call and connection, and the listener's TLS.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Longest a unary call may take.
    pub request_timeout: Duration,
    /// Calls served at once.
    pub concurrency_limit: usize,
    /// Calls served at once for one tenant.
    pub tenant_concurrency_limit: usize,
    /// Longest time from a call's headers to the end of its request.
    pub request_receive_timeout: Duration,
    /// How long shutdown waits for in-flight calls.
    pub shutdown_grace: Duration,
    /// How long a shutting-down server keeps accepting calls after it
    /// reports NOT_SERVING, so load balancers stop sending it traffic first.
    pub drain_delay: Duration,
    /// Connection caps and timeouts.
    pub connections: ConnectionLimits,
    /// Certificate and key to serve TLS with; none serves plaintext.
    pub tls: ServerTlsFiles,
}

impl From<&Settings> for ServerLimits {
    fn from(settings: &Settings) -> Self {
        Self {
            request_timeout: settings.request_timeout,
            concurrency_limit: settings.concurrency_limit,
            tenant_concurrency_limit: settings.tenant_concurrency_limit(),
            request_receive_timeout: settings.request_receive_timeout,
            shutdown_grace: settings.shutdown_grace,
            drain_delay: settings.shutdown_drain_delay,
            connections: ConnectionLimits::from(settings),
            tls: ServerTlsFiles::from(settings),
        }
    }
}

/// Largest request message the services served without a token (health,
/// reflection) accept: their requests are a few names long, and a stranger
/// must not make the process buffer megabytes per stream.
const PUBLIC_MESSAGE_LIMIT: usize = 16 * 1024;

/// Collects a process's gRPC services, then serves them.
pub struct GrpcServer {
    limits: ServerLimits,
    verifier: Arc<TokenVerifier>,
    routes: RoutesBuilder,
    service_names: Vec<&'static str>,
    rules: Vec<Rule>,
    health: HealthReporter,
    health_service:
        tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService>,
    database: Option<sea_orm::DatabaseConnection>,
    schema: Schema,
    door_refusals: Option<Arc<dyn DoorRefusals>>,
}

impl GrpcServer {
    /// A server with no services yet.
    pub fn new(limits: ServerLimits, verifier: Arc<TokenVerifier>) -> Self {
        let health = HealthReporter::new();
        let health_service = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(health.clone()),
        )
        .max_decoding_message_size(PUBLIC_MESSAGE_LIMIT);
        Self {
            limits,
            verifier,
            routes: RoutesBuilder::default(),
            service_names: Vec::new(),
            rules: Vec::new(),
            health,
            health_service,
            database: None,
            schema: Schema::ready(),
            door_refusals: None,
        }
    }

    /// Records in `refusals` every command the authorization layer refuses
    /// for the caller's roles (R29), while the refusal is answered.
    pub fn record_door_refusals(&mut self, refusals: Arc<dyn DoorRefusals>) -> &mut Self {
        self.door_refusals = Some(refusals);
        self
    }

    /// Serves calls only once `schema` is migrated; until then they answer
    /// `UNAVAILABLE` and the health statuses NOT_SERVING.
    pub fn require_schema(&mut self, schema: Schema) -> &mut Self {
        self.schema = schema;
        self
    }

    /// Reports the services NOT_SERVING while `db` does not answer, and
    /// SERVING again once it does, so orchestrators route around an outage
    /// without restarting anything.
    pub fn monitor_database(&mut self, db: sea_orm::DatabaseConnection) -> &mut Self {
        self.database = Some(db);
        self
    }

    /// Adds a service with the authorization `rules` of its methods; its
    /// health status is reported under its full name.
    pub fn add_service<S>(&mut self, service: S, rules: &[Rule]) -> &mut Self
    where
        S: Service<http::Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.service_names.push(S::NAME);
        self.rules.extend_from_slice(rules);
        self.routes.add_service(service);
        self
    }

    /// Every method of every added service, checked to have a rule.
    fn policy(&self) -> Result<Policy, ServeError> {
        let policy = Policy::new(&self.rules);
        let descriptors =
            prost_types::FileDescriptorSet::decode(twotier_proto::FILE_DESCRIPTOR_SET)
                .map_err(|e| ServeError::UnruledMethod(format!("the descriptor set ({e})")))?;
        for file in &descriptors.file {
            for service in &file.service {
                let name = format!("{}.{}", file.package(), service.name());
                if !self.service_names.contains(&name.as_str()) {
                    continue;
                }
                for method in &service.method {
                    let path = format!("/{name}/{}", method.name());
                    if policy.access(&path).is_none() {
                        return Err(ServeError::UnruledMethod(path));
                    }
                }
            }
        }
        Ok(policy)
    }

    /// The health reporter, for services that track their dependencies.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Serves until `shutdown` is cancelled, then reports NOT_SERVING, stops
    /// accepting, and waits up to the grace period for in-flight calls.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let connection_limits = self.limits.connections;
        let tls = self.limits.tls.load(connection_limits.handshake_timeout)?;
        let policy = self.policy()?;
        // Advertise exactly what this server serves, not every service in
        // the shared descriptor set.
        let reflection = || {
            let mut builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(twotier_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                // So that grpcurl decodes ErrorInfo, BadRequest and RetryInfo
                // in error details instead of printing base64.
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health")
                .with_service_name("grpc.reflection.v1.ServerReflection")
                .with_service_name("grpc.reflection.v1alpha.ServerReflection");
            for name in &self.service_names {
                builder = builder.with_service_name(*name);
            }
            builder
        };
        let reflection_v1 = reflection().build_v1();
        let reflection_v1alpha = reflection().build_v1alpha();
        let (Ok(reflection_v1), Ok(reflection_v1alpha)) = (reflection_v1, reflection_v1alpha)
        else {
            panic!("the compiled-in descriptor sets are valid");
        };
        let reflection_v1 = reflection_v1.max_decoding_message_size(PUBLIC_MESSAGE_LIMIT);
        let reflection_v1alpha = reflection_v1alpha.max_decoding_message_size(PUBLIC_MESSAGE_LIMIT);

        let initially = if self.schema.is_ready() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for name in self.service_names.iter().copied().chain([""]) {
            self.health.set_service_status(name, initially).await;
        }
        self.health
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;

        let mut routes = self.routes;
        routes.add_service(self.health_service);
        routes.add_service(reflection_v1);
        routes.add_service(reflection_v1alpha);

        tokio::spawn(readiness::monitor(
            self.database.clone(),
            self.schema.clone(),
            self.health.clone(),
            self.service_names.clone(),
            shutdown.clone(),
        ));
        let health = self.health.clone();
        let names = self.service_names.clone();
        let stop = shutdown.clone();
        let drain_delay = self.limits.drain_delay;
        let drained = async move {
            stop.cancelled().await;
            for name in names {
                health
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
            health
                .set_service_status("", ServingStatus::NotServing)
                .await;
            tokio::time::sleep(drain_delay).await;
        };

        let reaper = CancellationToken::new();
        let _stop_reaper = reaper.clone().drop_guard();
        let connections = Connections::new(connection_limits, reaper);
        let incoming = crate::connections::incoming(listener, connections);
        let mut builder = Server::builder()
            .max_concurrent_streams(connection_limits.max_concurrent_streams)
            .http2_keepalive_interval(Some(connection_limits.http2_keepalive_interval))
            .http2_keepalive_timeout(Some(connection_limits.http2_keepalive_timeout))
            .trace_fn(crate::telemetry::grpc_request_span);
        if let Some(tls) = tls {
            builder = builder.tls_config(tls)?;
        }
        // Outermost first. Calls are counted as they arrive (admission
        // asks whether others are waiting) and on their connection before
        // anything can refuse them; the token is checked before anything is
        // read or reserved for the caller (a command refused for its role
        // is recorded before the answer, within a budget of its own); the
        // request is received before it competes for a permit, so neither
        // an anonymous flood nor a caller that never finishes sending can
        // hold one. A call cut off by its deadline is answered inside the
        // metrics, so it is counted.
        let admission = AdmissionLayer::new(
            self.limits.concurrency_limit,
            self.limits.tenant_concurrency_limit,
        );
        let serving = builder
            .layer(tower::util::MapResponseLayer::new(with_version))
            .layer(admission.arrivals())
            .layer(ActiveStreamsLayer)
            .layer(crate::metrics::RequestMetricsLayer::new(policy.clone()))
            .layer(DeadlineLayer::new(self.limits.request_timeout))
            .layer(ReadyLayer::new(self.schema.clone()))
            .layer(AuthLayer::new(self.verifier, policy, self.door_refusals))
            .layer(ReceiveLayer::new(self.limits.request_receive_timeout))
            .layer(admission)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, drained);
        tokio::pin!(serving);
        tokio::select! {
            outcome = &mut serving => outcome.map_err(ServeError::from),
            () = async {
                shutdown.cancelled().await;
                tokio::time::sleep(drain_delay + self.limits.shutdown_grace).await;
            } => {
                tracing::warn!(grace = ?self.limits.shutdown_grace, "shutdown grace period over; dropping remaining calls");
                Ok(())
            }
        }
    }
}

/// Every response names the release that answered it, so an operator can
/// tell which version of a rolling update served a call.
fn with_version(mut response: http::Response<Body>) -> http::Response<Body> {
    response.headers_mut().insert(
        "twotier-version",
        http::HeaderValue::from_static(crate::VERSION),
    );
    response
}

/// Resolves when the process receives SIGTERM or Ctrl-C.
pub async fn termination_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            futures::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for sigterm");
                futures::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = futures::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
