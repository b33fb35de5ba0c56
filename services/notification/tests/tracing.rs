//! One trace runs from "reseller accepts the invitation" through the
//! partnership service's outbox to the customer and subscription
//! projections and to the email sent by the notification service and its
//! report in the notification log.

mod common;

use common::*;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use twotier_testkit::SmtpSink;

fn attribute(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test]
async fn accepting_an_invitation_is_one_trace_through_projections_to_the_email() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .init();

    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    wait_for_emails(&sink, 1).await;

    let accept_trace = || {
        let spans = exporter.get_finished_spans().unwrap_or_default();
        let accept = spans
            .iter()
            .find(|s| s.name == "/twotier.partnership.v1.PartnershipService/AcceptInvitation")
            .map(|s| s.span_context.trace_id());
        accept.map(|trace| {
            spans
                .into_iter()
                .filter(|s| s.span_context.trace_id() == trace)
                .collect::<Vec<_>>()
        })
    };
    // Spans are exported when they end; the last ones end just after the
    // email is recorded as sent.
    twotier_testkit::wait_until(
        "the email.send span joins the accept trace",
        DEADLINE,
        || async {
            accept_trace().is_some_and(|spans| spans.iter().any(|s| s.name == "email.send"))
        },
    )
    .await;
    let spans = accept_trace().expect("the accept call was traced");
    let consumers: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "handle twotier.partnership.v1.PartnershipAccepted")
        .filter_map(|s| attribute(s, "consumer"))
        .collect();
    for consumer in [
        "service:customer",
        "service:subscription",
        "service:notification",
    ] {
        assert!(
            consumers.iter().any(|c| c == consumer),
            "{consumer} handled the event in the same trace; saw {consumers:?}"
        );
    }
    let email = spans
        .iter()
        .find(|s| s.name == "email.send")
        .expect("email span");
    assert_eq!(
        attribute(email, "template").as_deref(),
        Some("partnership_accepted")
    );
    // The report of the sending, recorded by whichever task's turn took
    // it, carries the email's own trace. It may be committed (and on
    // PostgreSQL numbered) after the email reached the server: waited for.
    let reports = twotier_testkit::log::follow(
        h.channel("notification"),
        &twotier_testkit::service_token("test"),
        0,
        &["twotier.notification.v1.EmailSent"],
        1,
    )
    .await;
    let sent = reports
        .first()
        .expect("the email's report in the notification log");
    let traceparent = sent
        .trace_context
        .as_ref()
        .map(|trace| trace.traceparent.clone())
        .unwrap_or_default();
    assert!(
        traceparent.contains(&email.span_context.trace_id().to_string()),
        "EmailSent carries the accept trace; got {traceparent:?}"
    );
    println!(
        "trace {} has {} spans",
        email.span_context.trace_id(),
        spans.len()
    );
}
