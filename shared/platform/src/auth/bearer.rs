//! Sending a token from a generated client.

use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;

/// An interceptor adding `authorization: Bearer <token>` (or nothing) to
/// every call of a generated client.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Bearer {
    /// Sends `token`.
    pub fn new(token: &str) -> Self {
        // A token that is not a valid header value sends nothing, and the
        // call is refused as unauthenticated.
        Self(format!("Bearer {token}").parse().ok())
    }

    /// Sends no credentials.
    pub fn none() -> Self {
        Self(None)
    }

    /// Sends `value` verbatim as the authorization header.
    pub fn raw(value: &str) -> Self {
        Self(value.parse().ok())
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}
