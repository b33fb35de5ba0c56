//! JSON log lines with the trace at top level: `trace_id` and `span_id` of
//! the OpenTelemetry span a line was written in sit beside `timestamp`,
//! `level` and `message`, where log collectors look for them to link a
//! line to its trace. The line's own fields stay under `fields`, the
//! current span's under `span`.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON line format.
pub(crate) struct JsonWithTrace;

impl<S> FormatEvent<S, JsonFields> for JsonWithTrace
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut fields = Map::new();
        event.record(&mut Fields(&mut fields));
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), metadata.level().as_str().into());
        line.insert("target".into(), metadata.target().into());
        if let Some(message) = fields.get("message") {
            line.insert("message".into(), message.clone());
        }
        // The nearest span that recorded its ids (`telemetry::record_trace_id`).
        let scope = ctx.event_scope().into_iter().flatten();
        let mut current = None;
        for span in scope {
            let recorded = recorded_fields(&span);
            if current.is_none() {
                let mut named = recorded.clone();
                named.insert("name".into(), span.name().into());
                current = Some(named);
            }
            if let (Some(trace_id), Some(span_id)) =
                (recorded.get("trace_id"), recorded.get("span_id"))
            {
                line.insert("trace_id".into(), trace_id.clone());
                line.insert("span_id".into(), span_id.clone());
                break;
            }
        }
        if let Some(current) = current {
            line.insert("span".into(), Value::Object(current));
        }
        line.insert("fields".into(), Value::Object(fields));
        writeln!(writer, "{}", Value::Object(line))
    }
}

fn recorded_fields<S>(span: &tracing_subscriber::registry::SpanRef<'_, S>) -> Map<String, Value>
where
    S: for<'a> LookupSpan<'a>,
{
    span.extensions()
        .get::<FormattedFields<JsonFields>>()
        .and_then(|formatted| serde_json::from_str::<Map<String, Value>>(formatted).ok())
        .unwrap_or_default()
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_carry_trace_and_span_ids_at_top_level() {
        let lines = Lines::default();
        let writer = lines.clone();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(JsonWithTrace)
                    .with_writer(move || writer.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "grpc.request",
                tenant = "contoso",
                trace_id = tracing::field::Empty,
                span_id = tracing::field::Empty,
            );
            crate::telemetry::record_trace_id(&span);
            let _entered = span.enter();
            tracing::info!(partner_id = "4567890", "partnership accepted");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["message"], "partnership accepted");
        assert_eq!(line["fields"]["partner_id"], "4567890");
        assert_eq!(line["span"]["name"], "grpc.request");
        assert_eq!(line["span"]["tenant"], "contoso");
        assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
        assert_eq!(line["span_id"].as_str().unwrap().len(), 16);
    }
}
