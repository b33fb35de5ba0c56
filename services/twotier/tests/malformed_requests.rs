//! Requests that are not protobuf at all, or whose strings are not UTF-8,
//! sent to every RPC of the descriptor set: each answers `INVALID_ARGUMENT`
//! with reason `MALFORMED_REQUEST` (tonic's own codec says `INTERNAL`), and
//! no row anywhere changes.

mod common;

use std::time::Duration;

use common::in_process::{Services, callers};
use prost_reflect::{DescriptorPool, Kind, MessageDescriptor, MethodDescriptor};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_bytes_and_invalid_utf8_answer_invalid_argument_on_every_rpc() {
    let services = Services::start().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = services.snapshot().await;
    let callers = callers();
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
                // The first caller the method's authorization rule admits:
                // the body is read only after the door.
                let mut status = None;
                for (_, caller) in &callers {
                    let refused = call_raw(&channel, &method, bytes.clone(), caller)
                        .await
                        .expect_err(&format!("{what} accepted {case}"));
                    let by_role = twotier_platform::upstream::reason_of(&refused).as_deref()
                        == Some("ROLE_NOT_ALLOWED");
                    status = Some(refused);
                    if !by_role {
                        break;
                    }
                }
                let status = status.expect("callers");
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
