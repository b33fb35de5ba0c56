//! The codec of every generated client and server: prost's wire format, but
//! a request that does not decode (truncated bytes, a wrong wire type,
//! invalid UTF-8 in a `string`) is the caller's mistake, `INVALID_ARGUMENT`,
//! where tonic's prost codec answers `INTERNAL`.
//!
//! The status is built here rather than through `twotier_platform::Error`
//! because decoding happens inside this crate's generated code, below the
//! platform crate (which depends on this one). It has the same shape:
//! `google.rpc.ErrorInfo` with [`ERROR_DOMAIN`] and a stable reason;
//! `twotier-platform` tests that the two stay alike.

use std::collections::HashMap;
use std::marker::PhantomData;

use prost::{Message, Name};
use tonic::codec::{DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, StatusExt};

/// `google.rpc.ErrorInfo.domain` of every twotier error.
pub const ERROR_DOMAIN: &str = "twotier.dev";
/// `google.rpc.ErrorInfo.reason` of a request that does not decode.
pub const MALFORMED_REQUEST: &str = "MALFORMED_REQUEST";

/// Prost's codec with decode failures of requests mapped to
/// `INVALID_ARGUMENT` (named by `codec_path` in `build.rs`).
#[derive(Debug, Clone)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Name + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestAwareDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestAwareDecoder(PhantomData)
    }
}

/// Decodes `U`; see [`decode_error`] for what a failure becomes.
#[derive(Debug, Clone)]
pub struct RequestAwareDecoder<U>(PhantomData<U>);

impl<U: Message + Default + Name> Decoder for RequestAwareDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(decode_error::<U>)
    }
}

/// Messages returned by an RPC whose names end in `Request` all the same:
/// resources that are themselves a request of the domain's (a reseller's
/// request to a customer).
const RESPONSES_NAMED_REQUEST: &[&str] = &["twotier.customer.v1.ResellerRelationshipRequest"];

/// Whether `U` is what a server decodes: every request message is named
/// `<Method>Request` (buf's RPC_REQUEST_STANDARD_NAME holds `proto/` to it),
/// and no response is so named but those in [`RESPONSES_NAMED_REQUEST`].
fn is_request<U: Name>() -> bool {
    U::NAME.ends_with("Request") && !RESPONSES_NAMED_REQUEST.contains(&U::full_name().as_str())
}

/// The status of a message of type `U` that does not decode. Servers decode
/// requests and clients decode responses through the same codec; only the
/// server side is the caller's fault, and the type tells the two apart
/// ([`is_request`]). A response that does not decode stays `INTERNAL`:
/// the client cannot fix it.
pub fn decode_error<U: Name>(error: prost::DecodeError) -> Status {
    if !is_request::<U>() {
        return Status::internal(format!(
            "the response is not a valid {}: {error}",
            U::full_name()
        ));
    }
    let mut details =
        ErrorDetails::with_error_info(MALFORMED_REQUEST, ERROR_DOMAIN, HashMap::new());
    if let Some((field, description)) = offending_field(&error) {
        details.add_bad_request_violation(field, description);
    }
    Status::with_error_details(
        Code::InvalidArgument,
        format!("the request is not a valid {}: {error}", U::full_name()),
        details,
    )
}

/// The field path (`address.city`) and description of a decode error,
/// when it names a field: prost reports the fields it was in, innermost
/// first, as `Message.field: ` before its description.
fn offending_field(error: &prost::DecodeError) -> Option<(String, String)> {
    let shown = error.to_string();
    let rest = shown.strip_prefix("failed to decode Protobuf message: ")?;
    let mut fields = Vec::new();
    let mut description = rest;
    while let Some((frame, after)) = description.split_once(": ") {
        let Some((_, field)) = frame.rsplit_once('.') else {
            break;
        };
        if field.is_empty()
            || !field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            break;
        }
        fields.push(field);
        description = after;
    }
    if fields.is_empty() {
        return None;
    }
    fields.reverse();
    Some((fields.join("."), description.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{Customer, ListCustomersRequest};

    fn invalid_utf8_in_field_1() -> Vec<u8> {
        vec![0x0a, 0x02, 0xc3, 0x28]
    }

    #[test]
    fn a_request_that_does_not_decode_is_invalid_argument_with_a_reason() {
        let error = ListCustomersRequest::decode(invalid_utf8_in_field_1().as_slice()).unwrap_err();
        let status = decode_error::<ListCustomersRequest>(error);
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!(info.reason, MALFORMED_REQUEST);
        assert_eq!(info.domain, ERROR_DOMAIN);
        assert!(status.message().contains("ListCustomersRequest"));
        let violations = details
            .bad_request()
            .expect("BadRequest")
            .field_violations
            .clone();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "parent");
        assert!(
            violations[0].description.contains("UTF-8"),
            "{violations:?}"
        );
    }

    #[test]
    fn a_field_deep_in_the_request_is_named_by_its_path() {
        use crate::customer::{Address, CreateCustomerRequest, Customer};
        let request = CreateCustomerRequest {
            customer: Some(Customer {
                address: Some(Address {
                    city: "x".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut bytes = request.encode_to_vec();
        // The city's one byte, the message's last: made invalid UTF-8.
        let last = bytes.len() - 1;
        bytes[last] = 0xff;
        let error = CreateCustomerRequest::decode(bytes.as_slice()).unwrap_err();
        let (field, _) = offending_field(&error).expect("a field");
        assert_eq!(field, "customer.address.city");
    }

    #[test]
    fn bytes_broken_before_any_field_name_none() {
        // A key whose varint never ends: no field was reached.
        let error = ListCustomersRequest::decode([0x80].as_slice()).unwrap_err();
        assert_eq!(offending_field(&error), None);
        let status = decode_error::<ListCustomersRequest>(error);
        assert!(status.get_error_details().bad_request().is_none());
    }

    #[test]
    fn a_response_that_does_not_decode_stays_internal() {
        let error = Customer::decode(invalid_utf8_in_field_1().as_slice()).unwrap_err();
        assert_eq!(decode_error::<Customer>(error).code(), Code::Internal);
        use crate::customer::ResellerRelationshipRequest;
        let error =
            ResellerRelationshipRequest::decode(invalid_utf8_in_field_1().as_slice()).unwrap_err();
        assert_eq!(
            decode_error::<ResellerRelationshipRequest>(error).code(),
            Code::Internal,
            "a response, though named for the domain's request"
        );
    }

    /// The names tell requests from responses for every RPC of every
    /// service: each input is `<Method>Request`, and the outputs named
    /// `...Request` are exactly the listed ones.
    #[test]
    fn every_rpcs_input_is_a_request_and_every_output_a_response() {
        use prost_types::FileDescriptorSet;
        let set = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).expect("descriptor set");
        let mut responses_named_request = Vec::new();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let input = method.input_type().trim_start_matches('.');
                    let output = method.output_type().trim_start_matches('.');
                    assert_eq!(
                        input.rsplit('.').next(),
                        Some(format!("{}Request", method.name()).as_str()),
                        "{input}"
                    );
                    assert!(!RESPONSES_NAMED_REQUEST.contains(&input), "{input}");
                    if output.ends_with("Request") {
                        responses_named_request.push(output.to_owned());
                    }
                }
            }
        }
        responses_named_request.sort();
        responses_named_request.dedup();
        assert_eq!(responses_named_request, RESPONSES_NAMED_REQUEST);
    }
}
