//! Load shedding with a fair share per tenant: a process serves at most
//! `limit` calls at once and one tenant at most `tenant_limit` of them, and
//! refuses the excess at once with RESOURCE_EXHAUSTED and a retry hint,
//! instead of queueing it into a stall.
//!
//! The layer sits behind authentication and behind receiving the request,
//! so only verified callers whose request has fully arrived compete for a
//! permit. Calls without a verified caller are the public health and
//! reflection paths (the auth layer refuses any other): they are never shed,
//! so an overloaded process is not mistaken for a dead one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::auth::Caller;
use crate::error::Error;

/// Calls in flight, in total and per tenant.
#[derive(Debug, Default)]
struct InFlight {
    total: usize,
    by_tenant: HashMap<String, usize>,
}

#[derive(Debug)]
struct Limits {
    limit: usize,
    tenant_limit: usize,
    in_flight: Mutex<InFlight>,
    /// Calls that have arrived and not yet reached admission.
    arrived: AtomicUsize,
}

impl Limits {
    fn in_flight(&self) -> MutexGuard<'_, InFlight> {
        // Counts stay consistent whatever panicked while holding the lock.
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn admit(self: &Arc<Self>, tenant: &str) -> Result<Permit, Error> {
        let mut in_flight = self.in_flight();
        let tenant_calls = in_flight.by_tenant.get(tenant).copied().unwrap_or(0);
        if tenant_calls >= self.tenant_limit {
            return Err(Error::ResourceExhausted {
                reason: "TENANT_CONCURRENCY_LIMIT",
                message: format!(
                    "your tenant has {tenant_calls} calls in progress on this server, its fair share; retry later"
                ),
            });
        }
        if in_flight.total >= self.limit {
            return Err(Error::ResourceExhausted {
                reason: "SERVER_OVERLOADED",
                message: "the server is at its concurrency limit; retry later".into(),
            });
        }
        in_flight.total += 1;
        *in_flight.by_tenant.entry(tenant.to_owned()).or_default() += 1;
        Ok(Permit {
            limits: Arc::clone(self),
            tenant: tenant.to_owned(),
        })
    }
}

/// A call on its way from its arrival to admission, counted in
/// `Limits::arrived` until it is dropped (at admission, or with a request
/// refused or abandoned before it).
#[derive(Debug)]
struct Arrival {
    limits: Arc<Limits>,
}

impl Arrival {
    fn new(limits: &Arc<Limits>) -> Self {
        limits.arrived.fetch_add(1, Ordering::Relaxed);
        Self {
            limits: Arc::clone(limits),
        }
    }
}

impl Drop for Arrival {
    fn drop(&mut self) {
        self.limits.arrived.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The request extension that carries a call's [`Arrival`] (held for its
/// drop).
#[derive(Debug, Clone)]
struct Arrived {
    _arrival: Arc<Arrival>,
}

/// One admitted call; returns its place when dropped.
struct Permit {
    limits: Arc<Limits>,
    tenant: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut in_flight = self.limits.in_flight();
        in_flight.total = in_flight.total.saturating_sub(1);
        if let Some(calls) = in_flight.by_tenant.get_mut(&self.tenant) {
            *calls = calls.saturating_sub(1);
            if *calls == 0 {
                // Tenants without calls cost no memory.
                in_flight.by_tenant.remove(&self.tenant);
            }
        }
    }
}

/// Admits at most `limit` concurrent calls across all connections, at most
/// `tenant_limit` of them from one tenant.
#[derive(Debug, Clone)]
pub struct AdmissionLayer {
    limits: Arc<Limits>,
}

impl AdmissionLayer {
    /// A layer admitting `limit` calls at once, `tenant_limit` per tenant.
    pub fn new(limit: usize, tenant_limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            limits: Arc::new(Limits {
                limit,
                tenant_limit: tenant_limit.clamp(1, limit),
                in_flight: Mutex::new(InFlight::default()),
                arrived: AtomicUsize::new(0),
            }),
        }
    }

    /// The layer that counts calls as they arrive, before anything else
    /// runs for them; it goes outermost (see [`Admission`]).
    pub fn arrivals(&self) -> ArrivalLayer {
        ArrivalLayer {
            limits: Arc::clone(&self.limits),
        }
    }

    /// Calls admitted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.limits.in_flight().total
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admission<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admission {
            inner,
            limits: Arc::clone(&self.limits),
        }
    }
}

/// Counts each call from the moment it arrives (hyper calls the service
/// when a stream opens, and runs the call's future in a task of its own
/// later) until it reaches [`Admission`]. A caller that never finishes
/// sending stays counted until its receive timeout: that only makes
/// admitted calls wait their turn once, it refuses no one.
#[derive(Debug, Clone)]
pub struct ArrivalLayer {
    limits: Arc<Limits>,
}

impl<S> Layer<S> for ArrivalLayer {
    type Service = Arrivals<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Arrivals {
            inner,
            limits: Arc::clone(&self.limits),
        }
    }
}

/// The service [`ArrivalLayer`] produces.
#[derive(Debug, Clone)]
pub struct Arrivals<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> Service<http::Request<Body>> for Arrivals<S>
where
    S: Service<http::Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let arrival = Arrival::new(&self.limits);
        request.extensions_mut().insert(Arrived {
            _arrival: Arc::new(arrival),
        });
        self.inner.call(request)
    }
}

/// The service [`AdmissionLayer`] produces.
#[derive(Debug, Clone)]
pub struct Admission<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> Service<http::Request<Body>> for Admission<S>
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

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        drop(request.extensions_mut().remove::<Arrived>());
        let Some(caller) = request.extensions().get::<Caller>() else {
            return self.inner.call(request).boxed();
        };
        let tenant = share_of(caller, request.headers());
        let permit = match self.limits.admit(tenant) {
            Ok(permit) => permit,
            Err(error) => {
                // Debug, not warn: under overload a line per refusal would
                // add writing thousands of log lines a second to the load
                // being shed; `rpc.server.requests` counts refusals by code.
                tracing::debug!(
                    path = request.uri().path(),
                    tenant = %tenant,
                    reason = error.reason(),
                    "call refused"
                );
                let status = tonic::Status::from(error);
                return futures::future::ready(Ok(status.into_http())).boxed();
            }
        };
        // A handler that answers without waiting (a SQLite read in the
        // calling thread) holds its permit only while it runs, so calls
        // waiting for a thread would never count as in flight and nothing
        // would ever be shed: a flood would queue in front of the limit
        // instead. While other calls have arrived and wait to be admitted,
        // an admitted call therefore waits for its turn once, holding its
        // permit, as one that waits on the database does. With none
        // waiting it runs at once: the wait is a second poll of the task,
        // which cost a read 8-19 % when every call paid it.
        let others_waiting = self.limits.arrived.load(Ordering::Relaxed) > 0;
        let response = self.inner.call(request);
        async move {
            if others_waiting {
                tokio::task::yield_now().await;
            }
            let outcome = response.await;
            drop(permit);
            outcome
        }
        .boxed()
    }
}

/// Whose share a call counts against: its caller's tenant, or, for a
/// service's own call serving a tenant's command (`FOR_TENANT_HEADER`),
/// that tenant's, so that one tenant's flood of commands cannot exhaust
/// the share the services' calls for everyone else draw on. The header
/// counts only from a verified service: no one else can move their calls
/// onto another tenant's share.
fn share_of<'a>(caller: &'a Caller, headers: &'a http::HeaderMap) -> &'a str {
    if caller.has(crate::auth::Role::Service)
        && let Some(tenant) = headers
            .get(crate::auth::FOR_TENANT_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|tenant| crate::validate::tenant_id(tenant).is_ok())
    {
        return tenant;
    }
    &caller.tenant_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_services_call_for_a_tenant_counts_against_that_tenants_share_only() {
        let mut headers = http::HeaderMap::new();
        headers.insert(crate::auth::FOR_TENANT_HEADER, "contoso".parse().unwrap());
        let service = Caller {
            subject: "service:customer".into(),
            tenant_id: crate::auth::SERVICE_TENANT.into(),
            roles: vec![crate::auth::Role::Service],
            email: None,
            bearer: String::new(),
            via_service: None,
        };
        assert_eq!(share_of(&service, &headers), "contoso");
        assert_eq!(
            share_of(&service, &http::HeaderMap::new()),
            crate::auth::SERVICE_TENANT
        );
        let user = Caller {
            tenant_id: "northwind".into(),
            roles: vec![crate::auth::Role::GlobalAdmin],
            ..service.clone()
        };
        assert_eq!(share_of(&user, &headers), "northwind", "users cannot move");
        headers.insert(
            crate::auth::FOR_TENANT_HEADER,
            "Not A Tenant".parse().unwrap(),
        );
        assert_eq!(share_of(&service, &headers), crate::auth::SERVICE_TENANT);
    }

    #[test]
    fn a_tenant_at_its_share_is_refused_while_others_are_admitted() {
        let layer = AdmissionLayer::new(4, 2);
        let first = layer.limits.admit("a").unwrap();
        let _second = layer.limits.admit("a").unwrap();
        let refused = layer.limits.admit("a").err().unwrap();
        assert_eq!(refused.reason(), "TENANT_CONCURRENCY_LIMIT");
        let _other = layer.limits.admit("b").unwrap();
        drop(first);
        assert!(layer.limits.admit("a").is_ok());
    }

    #[test]
    fn the_global_limit_still_holds() {
        let layer = AdmissionLayer::new(2, 2);
        let _a = layer.limits.admit("a").unwrap();
        let _b = layer.limits.admit("b").unwrap();
        let refused = layer.limits.admit("c").err().unwrap();
        assert_eq!(refused.reason(), "SERVER_OVERLOADED");
        assert_eq!(layer.in_flight(), 2);
    }

    fn call_of(tenant: &str) -> http::Request<Body> {
        let mut request = http::Request::new(Body::empty());
        request.extensions_mut().insert(Caller {
            subject: "user".into(),
            tenant_id: tenant.into(),
            roles: Vec::new(),
            email: None,
            bearer: String::new(),
            via_service: None,
        });
        request
    }

    fn answered_at_once() -> impl Service<
        http::Request<Body>,
        Response = http::Response<Body>,
        Error = std::convert::Infallible,
        Future: Send,
    > + Send
    + 'static {
        tower::service_fn(|_: http::Request<Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
        })
    }

    #[tokio::test]
    async fn a_call_answered_without_waiting_holds_its_place_while_others_wait() {
        let layer = AdmissionLayer::new(1, 1);
        let mut service = layer.layer(answered_at_once());
        // Another call has arrived and is still on its way to admission.
        let waiting = Arrival::new(&layer.limits);
        let mut admitted = service.call(call_of("a"));
        assert!(futures::poll!(&mut admitted).is_pending(), "waits its turn");
        assert_eq!(layer.in_flight(), 1);

        let refused = service.call(call_of("b")).await.unwrap();
        let status = tonic::Status::from_header_map(refused.headers()).expect("a status");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);

        let answered = admitted.await.unwrap();
        assert!(tonic::Status::from_header_map(answered.headers()).is_none());
        assert_eq!(layer.in_flight(), 0);
        drop(waiting);
    }

    #[tokio::test]
    async fn with_no_other_call_waiting_a_call_runs_at_once() {
        let layer = AdmissionLayer::new(1, 1);
        let mut service = layer.arrivals().layer(layer.layer(answered_at_once()));
        let mut admitted = service.call(call_of("a"));
        assert!(
            futures::poll!(&mut admitted).is_ready(),
            "answered in its first poll"
        );
        assert_eq!(layer.in_flight(), 0);
        assert_eq!(
            layer.limits.arrived.load(Ordering::Relaxed),
            0,
            "its arrival ends at admission"
        );
    }

    #[test]
    fn a_call_refused_before_admission_is_no_longer_waiting() {
        let layer = AdmissionLayer::new(1, 1);
        let mut service =
            layer
                .arrivals()
                .layer(tower::service_fn(|request: http::Request<Body>| {
                    // Refused on its way (a bad token), before admission.
                    drop(request);
                    futures::future::ready(Ok::<_, std::convert::Infallible>(()))
                }));
        drop(service.call(call_of("a")));
        assert_eq!(layer.limits.arrived.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn finished_tenants_are_forgotten() {
        let layer = AdmissionLayer::new(4, 2);
        drop(layer.limits.admit("a").unwrap());
        assert!(layer.limits.in_flight().by_tenant.is_empty());
        assert_eq!(layer.in_flight(), 0);
    }
}
