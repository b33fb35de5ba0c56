//! Dispatching upstream events to typed handlers from one registration: the
//! list of event types a consumer subscribes to is the list of types it
//! registered a handler for, so a handled type cannot be left out of a
//! second list, and a handler receives its payload already decoded.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use twotier_proto::events::EventEnvelope;

use crate::{EventHandler, HandleError, decode_payload};

/// Applies the effects of upstream events of payload type `M`.
#[async_trait::async_trait]
pub trait Handles<M: Send + 'static>: Send + Sync + 'static {
    /// Applies `payload` (of `event`) inside `txn`, which the consumer
    /// commits together with its cursor.
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: M,
    ) -> Result<(), HandleError>;

    /// Whether `payload` can change anything here; when it cannot, the
    /// event is passed without a transaction. Decide from the payload
    /// alone: this runs before any read.
    fn affects(&self, _payload: &M) -> bool {
        true
    }
}

type Dispatch<H> = for<'a> fn(
    &'a H,
    &'a DatabaseTransaction,
    &'a EventEnvelope,
) -> BoxFuture<'a, Result<(), HandleError>>;

type Affects<H> = fn(&H, &EventEnvelope) -> bool;

/// How events of one type reach the handler.
struct Route<H> {
    dispatch: Dispatch<H>,
    affects: Affects<H>,
}

/// A handler and the event types it is registered for.
pub struct Handlers<H> {
    handler: Arc<H>,
    routes: HashMap<String, Route<H>>,
}

impl<H: Send + Sync + 'static> Handlers<H> {
    /// `handler`, registered for no event type yet.
    pub fn new(handler: H) -> Self {
        Self {
            handler: Arc::new(handler),
            routes: HashMap::new(),
        }
    }

    /// Also hands events with payload `M` to the handler.
    pub fn on<M>(mut self) -> Self
    where
        M: prost::Name + Default + Send + 'static,
        H: Handles<M>,
    {
        let route = Route {
            dispatch: dispatch::<H, M>,
            affects: affects::<H, M>,
        };
        self.routes.insert(M::full_name(), route);
        self
    }
}

fn dispatch<'a, H, M>(
    handler: &'a H,
    txn: &'a DatabaseTransaction,
    event: &'a EventEnvelope,
) -> BoxFuture<'a, Result<(), HandleError>>
where
    M: prost::Name + Default + Send + 'static,
    H: Handles<M>,
{
    Box::pin(async move {
        let payload = decode_payload::<M>(event)?;
        handler.handle(txn, event, payload).await
    })
}

fn affects<H, M>(handler: &H, event: &EventEnvelope) -> bool
where
    M: prost::Name + Default + Send + 'static,
    H: Handles<M>,
{
    // A payload that does not decode is handled, so that the handler's
    // refusal retries and dead-letters it like any other.
    decode_payload::<M>(event).map_or(true, |payload| handler.affects(&payload))
}

#[async_trait::async_trait]
impl<H: Send + Sync + 'static> EventHandler for Handlers<H> {
    fn event_types(&self) -> Vec<String> {
        self.routes.keys().cloned().collect()
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError> {
        match self.routes.get(&event.event_type) {
            Some(route) => (route.dispatch)(&self.handler, txn, event).await,
            // Subscriptions filter by type; an unregistered type is nobody's.
            None => Ok(()),
        }
    }

    fn affects(&self, event: &EventEnvelope) -> bool {
        self.routes
            .get(&event.event_type)
            .is_some_and(|route| (route.affects)(&self.handler, event))
    }
}

#[cfg(test)]
mod tests {
    use prost::Name;
    use twotier_proto::events::TraceContext;

    use super::*;

    /// Handles trace contexts; only those with a traceparent matter.
    struct Traces;

    #[async_trait::async_trait]
    impl Handles<TraceContext> for Traces {
        async fn handle(
            &self,
            _txn: &DatabaseTransaction,
            _event: &EventEnvelope,
            _payload: TraceContext,
        ) -> Result<(), HandleError> {
            Ok(())
        }

        fn affects(&self, payload: &TraceContext) -> bool {
            !payload.traceparent.is_empty()
        }
    }

    fn envelope(event_type: &str, payload: Option<prost_types::Any>) -> EventEnvelope {
        EventEnvelope {
            event_type: event_type.to_owned(),
            payload,
            ..Default::default()
        }
    }

    fn trace(traceparent: &str) -> EventEnvelope {
        let payload = TraceContext {
            traceparent: traceparent.to_owned(),
            tracestate: String::new(),
        };
        envelope(
            &TraceContext::full_name(),
            Some(prost_types::Any::from_msg(&payload).expect("encodes")),
        )
    }

    #[test]
    fn the_handler_decides_from_the_payload_whether_an_event_affects_anything() {
        let handlers = Handlers::new(Traces).on::<TraceContext>();
        assert!(handlers.affects(&trace("00-abc-def-01")));
        assert!(!handlers.affects(&trace("")));
    }

    #[test]
    fn an_undecodable_payload_is_handled_so_that_it_is_refused_and_dead_lettered() {
        let handlers = Handlers::new(Traces).on::<TraceContext>();
        let broken = prost_types::Any {
            type_url: "type.googleapis.com/other".into(),
            value: vec![0xff],
        };
        assert!(handlers.affects(&envelope(&TraceContext::full_name(), Some(broken))));
    }

    #[test]
    fn an_unregistered_type_affects_nothing() {
        let handlers = Handlers::new(Traces).on::<TraceContext>();
        assert!(!handlers.affects(&envelope("other.Type", None)));
    }
}
