//! Bad input on every RPC, generated from the descriptor set: tokens of
//! every wrong kind, malformed and oversized fields, out-of-range numbers,
//! unknown enum values, invalid emails and PartnerIDs, foreign tenants.
//! Every call gets a documented error (never INTERNAL, UNKNOWN or
//! UNIMPLEMENTED; a refusal that changes nothing) and no row anywhere
//! changes.

mod common;

use std::time::Duration;

use common::in_process::{Services, callers};
use prost_reflect::{
    DescriptorPool, DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, Value,
};
use tonic::Code;
use tonic::transport::Channel;
use twotier_platform::auth::Role;

/// Calls `method` with `message` and, when given, the `authorization` value.
async fn call(
    channel: &Channel,
    method: &MethodDescriptor,
    message: DynamicMessage,
    authorization: Option<&str>,
) -> Result<(), tonic::Status> {
    let metadata: Vec<(&'static str, String)> = authorization
        .map(|value| ("authorization", value.to_owned()))
        .into_iter()
        .collect();
    twotier_testkit::dynamic::call(channel, method, message, &metadata).await
}

/// A named way of spoiling a request.
type Spoiler = (
    &'static str,
    fn(&MessageDescriptor) -> Option<DynamicMessage>,
);

fn with_strings(
    descriptor: &MessageDescriptor,
    value: &dyn Fn(&str) -> Option<String>,
) -> Option<DynamicMessage> {
    let mut message = DynamicMessage::new(descriptor.clone());
    let mut changed = false;
    for field in descriptor.fields() {
        if field.is_list() || field.is_map() {
            continue;
        }
        match field.kind() {
            Kind::String => {
                if let Some(v) = value(field.name()) {
                    message.set_field(&field, Value::String(v));
                    changed = true;
                }
            }
            Kind::Message(inner) if !inner.full_name().starts_with("google.") => {
                if let Some(nested) = with_strings(&inner, value) {
                    message.set_field(&field, Value::Message(nested));
                    changed = true;
                }
            }
            _ => {}
        }
    }
    changed.then_some(message)
}

fn with_numbers(descriptor: &MessageDescriptor, number: i64) -> Option<DynamicMessage> {
    let mut message = DynamicMessage::new(descriptor.clone());
    let mut changed = false;
    for field in descriptor.fields() {
        if field.is_list() || field.is_map() {
            continue;
        }
        let value = match field.kind() {
            Kind::Int32 => Value::I32(i32::try_from(number).unwrap_or(i32::MAX)),
            Kind::Int64 => Value::I64(number),
            Kind::Uint64 if number >= 0 => Value::U64(number as u64),
            Kind::Enum(_) => Value::EnumNumber(999),
            _ => continue,
        };
        message.set_field(&field, value);
        changed = true;
    }
    changed.then_some(message)
}

/// Every repeated field, nested ones and update masks included, filled with
/// `n` entries (`depth` guards against recursive message types).
fn with_lists(descriptor: &MessageDescriptor, n: usize, depth: usize) -> Option<DynamicMessage> {
    if depth == 0 {
        return None;
    }
    let mut message = DynamicMessage::new(descriptor.clone());
    let mut changed = false;
    for field in descriptor.fields() {
        if field.is_map() {
            continue;
        }
        if field.is_list() {
            let item = match field.kind() {
                Kind::String => Value::String("display_name".into()),
                Kind::Enum(_) => Value::EnumNumber(1),
                Kind::Message(inner) => Value::Message(DynamicMessage::new(inner)),
                _ => continue,
            };
            message.set_field(&field, Value::List(vec![item; n]));
            changed = true;
        } else if let Kind::Message(inner) = field.kind()
            && let Some(nested) = with_lists(&inner, n, depth - 1)
        {
            message.set_field(&field, Value::Message(nested));
            changed = true;
        }
    }
    changed.then_some(message)
}

const SPOILERS: &[Spoiler] = &[
    ("40,000 entries in every repeated field", |d| {
        with_lists(d, 40_000, 4)
    }),
    ("control characters", |d| {
        with_strings(d, &|_| Some("bad\u{0}value".into()))
    }),
    ("overlong strings", |d| {
        with_strings(d, &|_| Some("x".repeat(30_000)))
    }),
    ("malformed names", |d| {
        with_strings(d, &|name| Some(format!("garbage/{name}//x")))
    }),
    ("invalid emails and PartnerIDs", |d| {
        with_strings(d, &|name| {
            if name.contains("email") || name == "recipient" {
                Some("not-an-email".into())
            } else if name.contains("partner_id") {
                Some("12ab".into())
            } else {
                None
            }
        })
    }),
    ("foreign tenant", |d| {
        with_strings(d, &|name| match name {
            "parent" => Some("providers/northwind".into()),
            "name" | "cart" | "invitation" | "customer" => {
                Some("providers/northwind/customers/x".into())
            }
            _ => None,
        })
    }),
    ("negative numbers and unknown enums", |d| {
        with_numbers(d, -1)
    }),
    ("huge numbers and unknown enums", |d| {
        with_numbers(d, i64::from(i32::MAX))
    }),
    ("oversized message", |d| {
        let field = d
            .fields()
            .find(|f| matches!(f.kind(), Kind::String) && !f.is_list())?;
        let mut message = DynamicMessage::new(d.clone());
        message.set_field(&field, Value::String("x".repeat(5 * 1024 * 1024)));
        Some(message)
    }),
];

/// Codes a refusal may have; anything else is a bug.
const DOCUMENTED: [Code; 8] = [
    Code::InvalidArgument,
    Code::NotFound,
    Code::FailedPrecondition,
    Code::PermissionDenied,
    Code::Unauthenticated,
    Code::OutOfRange,
    Code::AlreadyExists,
    Code::Aborted,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_bad_input_with_a_documented_error_and_changes_nothing() {
    let services = Services::start().await;
    let server_of = |service: &str| services.server_of(service);
    let snapshot = || services.snapshot();
    // Let the consumers subscribe and settle before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = snapshot().await;

    let callers = callers();
    let wrong_tokens = [
        ("missing", None),
        ("not a bearer", Some("Basic bWFsbG9yeQ==".to_owned())),
        ("garbage", Some("Bearer not.a.token".to_owned())),
        ("alg none", Some("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwidGlkIjoiY29udG9zbyIsInJvbGVzIjpbIkdsb2JhbEFkbWluIl0sImlzcyI6InR3b3RpZXIiLCJhdWQiOiJ0d290aWVyIiwiZXhwIjo5OTk5OTk5OTk5fQ.".to_owned())),
        ("wrong signature", Some(format!("Bearer {}", twotier_platform::auth::TokenMinter::new(&twotier_platform::auth::Secret::new("other", vec![7; 32]).unwrap(), "twotier", "twotier").mint("x", "contoso", &[Role::GlobalAdmin], None, Duration::from_secs(60)).unwrap()))),
        ("wrong audience", Some(format!("Bearer {}", twotier_testkit::minter_for("twotier", "elsewhere").mint("x", "contoso", &[Role::GlobalAdmin], None, Duration::from_secs(60)).unwrap()))),
    ];

    let pool = DescriptorPool::decode(twotier_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut calls = 0;
    let mut methods = 0;
    for service in pool
        .services()
        .filter(|s| s.full_name().starts_with("twotier."))
    {
        let channel = server_of(service.full_name());
        for method in service.methods() {
            if method.is_server_streaming() {
                continue;
            }
            methods += 1;
            let what = format!("{}/{}", service.name(), method.name());
            for (kind, token) in &wrong_tokens {
                let outcome = call(
                    &channel,
                    &method,
                    DynamicMessage::new(method.input()),
                    token.as_deref(),
                )
                .await;
                let status =
                    outcome.expect_err(&format!("{what} with a {kind} token must be refused"));
                assert_eq!(
                    status.code(),
                    Code::Unauthenticated,
                    "{what} with a {kind} token: {status:?}"
                );
                calls += 1;
            }
            for ((spoiler, spoil), (caller, valid)) in SPOILERS
                .iter()
                .flat_map(|spoiler| callers.iter().map(move |caller| (spoiler, caller)))
            {
                let Some(message) = spoil(&method.input()) else {
                    continue;
                };
                let outcome = call(&channel, &method, message, Some(valid)).await;
                calls += 1;
                let Err(status) = outcome else {
                    // Reads may legitimately find nothing for a strange
                    // filter; changes must never pass.
                    let read = !twotier_platform::auth::is_command(method.name());
                    assert!(read, "{what} accepted {spoiler} from the {caller}");
                    continue;
                };
                assert!(
                    DOCUMENTED.contains(&status.code()),
                    "{what} with {spoiler} from the {caller}: undocumented {status:?}"
                );
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = snapshot().await;
    assert_eq!(before, after, "no row changed anywhere");
    println!(
        "{calls} bad calls on {methods} RPCs; every one refused with a documented error, no row changed"
    );
}
