//! Bad input on every RPC, generated from the descriptor set: tokens of
//! every wrong kind, malformed and oversized fields, out-of-range numbers,
//! unknown enum values, invalid emails and PartnerIDs, foreign tenants.
//! Every call gets a documented error (never INTERNAL, UNKNOWN or
//! UNIMPLEMENTED; a refusal that changes nothing) and no row anywhere
//! changes.

use std::collections::BTreeMap;
use std::time::Duration;

use prost_reflect::{
    DescriptorPool, DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, Value,
};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_subscription::SubscriptionService;
use twotier_testkit::TestDatabase;

/// Encodes and decodes messages known only by descriptor.
struct DynamicCodec(MessageDescriptor);
struct DynamicEncoder;
struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.0.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        prost::Message::encode(&item, dst).map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

async fn call(
    channel: &Channel,
    method: &MethodDescriptor,
    message: DynamicMessage,
    authorization: Option<&str>,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(message);
    request.set_timeout(Duration::from_secs(10));
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().expect("ascii"));
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = http::uri::PathAndQuery::try_from(path).expect("path");
    grpc.unary(request, path, DynamicCodec(method.output()))
        .await
        .map(|_| ())
}

/// Sends bytes as they are, whatever the method expects, and ignores what
/// comes back: how a broken or hostile client sees the server.
struct RawCodec;
struct RawEncoder;
struct DiscardDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = RawEncoder;
    type Decoder = DiscardDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DiscardDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        prost::bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl Decoder for DiscardDecoder {
    type Item = ();
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        let all = prost::bytes::Buf::remaining(src);
        prost::bytes::Buf::advance(src, all);
        Ok(Some(()))
    }
}

/// Calls `method` (unary or server-streaming) with `bytes` as its request;
/// a stream's first message tells whether the request was taken.
async fn call_raw(
    channel: &Channel,
    method: &MethodDescriptor,
    bytes: Vec<u8>,
    authorization: &str,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(bytes);
    request.set_timeout(Duration::from_secs(10));
    request
        .metadata_mut()
        .insert("authorization", authorization.parse().expect("ascii"));
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = http::uri::PathAndQuery::try_from(path).expect("path");
    if method.is_server_streaming() {
        let mut stream = grpc
            .server_streaming(request, path, RawCodec)
            .await?
            .into_inner();
        return stream.message().await.map(|_| ());
    }
    grpc.unary(request, path, RawCodec).await.map(|_| ())
}

/// A request whose first `string` field holds bytes that are not UTF-8.
fn invalid_utf8(descriptor: &MessageDescriptor) -> Option<Vec<u8>> {
    use prost::encoding::{WireType, encode_key, encode_varint};
    let field = descriptor
        .fields()
        .find(|f| matches!(f.kind(), Kind::String))?;
    let mut bytes = Vec::new();
    encode_key(field.number(), WireType::LengthDelimited, &mut bytes);
    encode_varint(2, &mut bytes);
    bytes.extend_from_slice(&[0xc3, 0x28]);
    Some(bytes)
}

/// Every row count of every table of a database.
async fn row_counts(url: &str) -> BTreeMap<String, i64> {
    let db = twotier_platform::db::connect(url, 2)
        .await
        .expect("connect");
    let backend = db.get_database_backend();
    let list = if url.starts_with("sqlite") {
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    } else {
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'"
    };
    let mut counts = BTreeMap::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .expect("tables")
    {
        let table: String = row.try_get("", "t").expect("name");
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await
            .expect("count")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n");
        counts.insert(table, n);
    }
    counts
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

/// The four services in this process, each on its own database.
struct Services {
    partnership: twotier_testkit::RunningServer,
    customer: twotier_testkit::RunningServer,
    subscription: twotier_testkit::RunningServer,
    notification: twotier_testkit::RunningServer,
    databases: [TestDatabase; 4],
}

impl Services {
    async fn start() -> Self {
        let partnership_db = TestDatabase::new("partnership").await;
        let partnership =
            twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
        let p = partnership.endpoint();
        let customer_db = TestDatabase::new("customer").await;
        let customer = twotier_testkit::start_service::<CustomerService>(
            &customer_db,
            &[("TWOTIER_PARTNERSHIP_ENDPOINT", &p)],
        )
        .await;
        let c = customer.endpoint();
        let subscription_db = TestDatabase::new("subscription").await;
        let subscription = twotier_testkit::start_service::<SubscriptionService>(
            &subscription_db,
            &[
                ("TWOTIER_PARTNERSHIP_ENDPOINT", &p),
                ("TWOTIER_CUSTOMER_ENDPOINT", &c),
            ],
        )
        .await;
        let s = subscription.endpoint();
        let notification_db = TestDatabase::new("notification").await;
        let notification = twotier_testkit::start_service::<NotificationService>(
            &notification_db,
            &[
                ("TWOTIER_PARTNERSHIP_ENDPOINT", &p),
                ("TWOTIER_CUSTOMER_ENDPOINT", &c),
                ("TWOTIER_SUBSCRIPTION_ENDPOINT", &s),
            ],
        )
        .await;
        Self {
            partnership,
            customer,
            subscription,
            notification,
            databases: [
                partnership_db,
                customer_db,
                subscription_db,
                notification_db,
            ],
        }
    }

    /// The server of a gRPC service (by full name).
    fn server_of(&self, service: &str) -> Channel {
        match service.split('.').nth(1) {
            Some("customer") => self.customer.channel(),
            Some("subscription") => self.subscription.channel(),
            Some("notification") => self.notification.channel(),
            Some("events") if service.ends_with("DeadLetterService") => self.customer.channel(),
            _ => self.partnership.channel(),
        }
    }

    /// Every row count of every table of every database.
    async fn snapshot(&self) -> BTreeMap<String, i64> {
        let mut all = BTreeMap::new();
        for db in &self.databases {
            for (table, n) in row_counts(&db.url).await {
                all.insert(
                    format!("{}.{table}", db.url.rsplit('/').next().unwrap_or("")),
                    n,
                );
            }
        }
        all
    }
}

/// Bearer tokens of every kind of caller that passes authentication, so bad
/// input reaches the checks behind it: a provider user who is also a
/// reseller admin (tenant `contoso`), the platform operator and a service.
fn callers() -> [(&'static str, String); 3] {
    let user = twotier_testkit::token(
        "mallory",
        "contoso",
        &[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin],
    );
    let operator = twotier_testkit::token("olga", "twotier", &[Role::PlatformOperator]);
    let service = twotier_testkit::service_token("mallory");
    [
        ("provider user", format!("Bearer {user}")),
        ("platform operator", format!("Bearer {operator}")),
        ("service", format!("Bearer {service}")),
    ]
}

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
                    let read = ["List", "Get", "Verify", "Check", "Review"]
                        .iter()
                        .any(|p| method.name().starts_with(p));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_bytes_and_invalid_utf8_answer_invalid_argument_on_every_rpc() {
    let services = Services::start().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = services.snapshot().await;
    let [(_, valid), ..] = callers();
    let pool = DescriptorPool::decode(twotier_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut calls = 0;
    for service in pool
        .services()
        .filter(|s| s.full_name().starts_with("twotier."))
    {
        let channel = services.server_of(service.full_name());
        for method in service.methods() {
            let what = format!("{}/{}", service.name(), method.name());
            // Field 1, length-delimited, 5 bytes announced and 1 sent: no
            // message of any shape decodes from it.
            let mut cases = vec![("truncated bytes", vec![0x0a, 0x05, 0x41])];
            if let Some(bytes) = invalid_utf8(&method.input()) {
                cases.push(("invalid UTF-8 in a string", bytes));
            }
            for (case, bytes) in cases {
                let status = call_raw(&channel, &method, bytes, &valid)
                    .await
                    .expect_err(&format!("{what} accepted {case}"));
                assert_eq!(
                    status.code(),
                    Code::InvalidArgument,
                    "{what} with {case}: {status:?}"
                );
                assert_eq!(
                    twotier_platform::upstream::reason_of(&status).as_deref(),
                    Some("MALFORMED_REQUEST"),
                    "{what} with {case}: {status:?}"
                );
                calls += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(before, services.snapshot().await, "no row changed anywhere");
    println!("{calls} undecodable requests, every one INVALID_ARGUMENT / MALFORMED_REQUEST");
}
