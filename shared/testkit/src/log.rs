//! Reading a service's event log the way another service does, or as a
//! provider's own backend reads its tenant's feed.

use std::time::Duration;

use tonic::transport::Channel;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};

use crate::Bearer;

/// Every event the service behind `channel` has logged, as a service
/// following its log sees them: waits (at most 30 s) until there are at
/// least `at_least`, then takes whatever else is already sequenced.
pub async fn events(channel: Channel, at_least: usize) -> Vec<EventEnvelope> {
    follow(channel, &crate::service_token("test"), 0, &[], at_least).await
}

/// The types of `events`, in order.
pub fn event_types(events: &[EventEnvelope]) -> Vec<String> {
    events.iter().map(|e| e.event_type.clone()).collect()
}

/// What `token` receives from the log behind `channel` after position
/// `after`, of `event_types` (empty: all): waits (at most 30 s) for
/// `expected` events, then takes whatever else arrives within 300 ms.
pub async fn follow(
    channel: Channel,
    token: &str,
    after: u64,
    event_types: &[&str],
    expected: usize,
) -> Vec<EventEnvelope> {
    let mut client = EventLogServiceClient::with_interceptor(channel, Bearer::new(token));
    let mut stream = client
        .subscribe(SubscribeRequest {
            after_position: after,
            event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
        })
        .await
        .expect("subscribe")
        .into_inner();
    let mut events = Vec::new();
    while events.len() < expected {
        let next = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("events arrive in time");
        events.push(next.expect("stream").expect("open stream"));
    }
    while let Ok(Ok(Some(event))) =
        tokio::time::timeout(Duration::from_millis(300), stream.message()).await
    {
        events.push(event);
    }
    events
}
