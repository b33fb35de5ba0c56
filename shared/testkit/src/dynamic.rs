//! Calling any RPC of the descriptor set with messages built at run time
//! (prost-reflect), for tests generated over every method.

use std::time::Duration;

use prost_reflect::{DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// The descriptor pool of every twotier contract.
pub fn pool() -> prost_reflect::DescriptorPool {
    prost_reflect::DescriptorPool::decode(twotier_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled-in descriptor set decodes")
}

/// Every method of every twotier service.
pub fn methods() -> Vec<MethodDescriptor> {
    pool()
        .services()
        .filter(|service| service.full_name().starts_with("twotier."))
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .collect()
}

/// Encodes and decodes messages known only by descriptor.
pub struct DynamicCodec(pub MessageDescriptor);
/// The encoder of [`DynamicCodec`].
pub struct DynamicEncoder;
/// The decoder of [`DynamicCodec`].
pub struct DynamicDecoder(MessageDescriptor);

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

/// Calls `method` with `message` and the given metadata. A server-streaming
/// call counts as answered once the server accepted the stream.
pub async fn call(
    channel: &Channel,
    method: &MethodDescriptor,
    message: DynamicMessage,
    metadata: &[(&'static str, String)],
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(message);
    request.set_timeout(Duration::from_secs(10));
    for (key, value) in metadata {
        request
            .metadata_mut()
            .insert(*key, value.parse().expect("ascii metadata"));
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let path = http::uri::PathAndQuery::try_from(path).expect("path");
    let codec = DynamicCodec(method.output());
    if method.is_server_streaming() {
        return grpc
            .server_streaming(request, path, codec)
            .await
            .map(|_| ());
    }
    grpc.unary(request, path, codec).await.map(|_| ())
}
