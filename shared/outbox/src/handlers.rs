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
}

type Dispatch<H> = for<'a> fn(
    &'a H,
    &'a DatabaseTransaction,
    &'a EventEnvelope,
) -> BoxFuture<'a, Result<(), HandleError>>;

/// A handler and the event types it is registered for.
pub struct Handlers<H> {
    handler: Arc<H>,
    routes: HashMap<String, Dispatch<H>>,
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
        self.routes.insert(M::full_name(), dispatch::<H, M>);
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
            Some(dispatch) => dispatch(&self.handler, txn, event).await,
            // Subscriptions filter by type; an unregistered type is nobody's.
            None => Ok(()),
        }
    }
}
