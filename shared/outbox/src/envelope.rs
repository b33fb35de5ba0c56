//! Outbox rows as `twotier.events.v1.EventEnvelope`s.

use twotier_proto::events::{EventEnvelope, TraceContext};

use crate::entity::outbox_event;
use crate::handler::HandleError;

/// Type URL prefix of payloads (`google.protobuf.Any`).
const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// The envelope of a sequenced outbox row.
pub(crate) fn envelope_of(row: outbox_event::Model) -> EventEnvelope {
    EventEnvelope {
        event_id: row.event_id,
        position: row
            .position
            .and_then(|p| u64::try_from(p).ok())
            .unwrap_or(0),
        aggregate_type: row.aggregate_type,
        aggregate_id: row.aggregate_id,
        tenant_id: row.tenant_id,
        occurred_at: Some(twotier_platform::time::timestamp(row.occurred_at)),
        trace_context: Some(TraceContext {
            traceparent: row.traceparent,
            tracestate: row.tracestate,
        }),
        payload: Some(prost_types::Any {
            type_url: format!("{TYPE_URL_PREFIX}{}", row.event_type),
            value: row.payload,
        }),
        event_type: row.event_type,
    }
}

/// Decodes the typed payload of `envelope`; an envelope of another type or
/// with a payload that does not decode is a permanent handling error.
pub fn decode_payload<M: prost::Name + Default>(
    envelope: &EventEnvelope,
) -> Result<M, HandleError> {
    let payload = envelope
        .payload
        .as_ref()
        .ok_or_else(|| HandleError::Rejected("event has no payload".into()))?;
    payload.to_msg::<M>().map_err(|error| {
        HandleError::Rejected(format!(
            "payload of {} does not decode: {error}",
            envelope.event_type
        ))
    })
}
