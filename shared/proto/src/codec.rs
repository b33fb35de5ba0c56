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

/// The status of a message of type `U` that does not decode. Servers decode
/// requests and clients decode responses through the same codec; only the
/// server side is the caller's fault. Every request message is named
/// `<Method>Request` (buf's RPC_REQUEST_STANDARD_NAME holds `proto/` to it),
/// so the type tells the two apart. A response that does not decode stays
/// `INTERNAL`: the client cannot fix it.
pub fn decode_error<U: Name>(error: prost::DecodeError) -> Status {
    if !U::NAME.ends_with("Request") {
        return Status::internal(format!(
            "the response is not a valid {}: {error}",
            U::full_name()
        ));
    }
    let details = ErrorDetails::with_error_info(MALFORMED_REQUEST, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(
        Code::InvalidArgument,
        format!("the request is not a valid {}: {error}", U::full_name()),
        details,
    )
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
    }

    #[test]
    fn a_response_that_does_not_decode_stays_internal() {
        let error = Customer::decode(invalid_utf8_in_field_1().as_slice()).unwrap_err();
        assert_eq!(decode_error::<Customer>(error).code(), Code::Internal);
    }
}
