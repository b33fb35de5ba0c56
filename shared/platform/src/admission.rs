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
            }),
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

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let Some(caller) = request.extensions().get::<Caller>() else {
            return self.inner.call(request).boxed();
        };
        let permit = match self.limits.admit(&caller.tenant_id) {
            Ok(permit) => permit,
            Err(error) => {
                // Debug, not warn: under overload a line per refusal would
                // add writing thousands of log lines a second to the load
                // being shed; `rpc.server.requests` counts refusals by code.
                tracing::debug!(
                    path = request.uri().path(),
                    tenant = %caller.tenant_id,
                    reason = error.reason(),
                    "call refused"
                );
                let status = tonic::Status::from(error);
                return futures::future::ready(Ok(status.into_http())).boxed();
            }
        };
        let response = self.inner.call(request);
        async move {
            // A handler that answers without waiting (a SQLite read in the
            // calling thread) would hold its permit only while it runs, so
            // calls waiting for a thread would never count as in flight
            // and nothing would ever be shed: a flood would queue in front
            // of the limit instead. An admitted call therefore waits for
            // its turn once, holding its permit, as one that waits on the
            // database does.
            tokio::task::yield_now().await;
            let outcome = response.await;
            drop(permit);
            outcome
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn a_call_answered_without_waiting_holds_its_place_until_its_turn() {
        let layer = AdmissionLayer::new(1, 1);
        let mut service = layer.layer(tower::service_fn(|_: http::Request<Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
        }));
        let mut admitted = service.call(call_of("a"));
        assert!(futures::poll!(&mut admitted).is_pending(), "waits its turn");
        assert_eq!(layer.in_flight(), 1);

        let refused = service.call(call_of("b")).await.unwrap();
        let status = tonic::Status::from_header_map(refused.headers()).expect("a status");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);

        let answered = admitted.await.unwrap();
        assert!(tonic::Status::from_header_map(answered.headers()).is_none());
        assert_eq!(layer.in_flight(), 0);
    }

    #[test]
    fn finished_tenants_are_forgotten() {
        let layer = AdmissionLayer::new(4, 2);
        drop(layer.limits.admit("a").unwrap());
        assert!(layer.limits.in_flight().by_tenant.is_empty());
        assert_eq!(layer.in_flight(), 0);
    }
}
