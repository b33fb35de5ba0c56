use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use tonic::body::Body;
use tower::{Layer, Service};
use tracing::Instrument;

use super::{DoorRefusals, Policy, TokenVerifier, is_command};
use crate::error::Error;

/// Longest a refusal waits for its audit record before it is answered: a
/// commit takes milliseconds, only the trail's few concurrent recordings
/// (`DoorTrail`) ever wait, and a refusal must stay a refusal, not become
/// a caller's deadline passing.
const REFUSAL_RECORD_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Paths reachable without a token: probes and tooling must work before a
/// caller has credentials.
const PUBLIC_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Whether `path` is reachable without a token (health and reflection).
pub fn is_public(path: &str) -> bool {
    PUBLIC_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Verifies the bearer token of every call (but health and reflection) and
/// puts the [`super::Caller`] into the request extensions. A call without a
/// valid token never reaches a service.
#[derive(Clone)]
pub struct AuthLayer {
    verifier: Arc<TokenVerifier>,
    policy: Policy,
    refusals: Option<Arc<dyn DoorRefusals>>,
}

impl AuthLayer {
    /// A layer checking tokens with `verifier` and roles with `policy`,
    /// recording commands refused for the caller's roles in `refusals`.
    pub fn new(
        verifier: Arc<TokenVerifier>,
        policy: Policy,
        refusals: Option<Arc<dyn DoorRefusals>>,
    ) -> Self {
        Self {
            verifier,
            policy,
            refusals,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
            policy: self.policy.clone(),
            refusals: self.refusals.clone(),
        }
    }
}

/// The service [`AuthLayer`] produces.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: Arc<TokenVerifier>,
    policy: Policy,
    refusals: Option<Arc<dyn DoorRefusals>>,
}

impl<S> Service<http::Request<Body>> for AuthService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path();
        if is_public(path) {
            return self.inner.call(request).boxed();
        }
        // The inner service was polled ready; the clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let policy = self.policy.clone();
        let refusals = self.refusals.clone();
        let path = path.to_owned();
        async move {
            let authorized = match authenticate(&verifier, request.headers()).await {
                Ok(caller) => match policy.authorize(&path, &caller) {
                    Ok(()) => Ok(caller),
                    Err(refused) => {
                        // Only the RPCs served here: a made-up path is no
                        // command of this service's.
                        let served = policy.access(&path).is_some();
                        if let Some(refusals) = refusals.filter(|_| served && is_command(&path)) {
                            let call = super::CallContext {
                                caller,
                                rpc: path.clone(),
                            };
                            // Answered once recorded, so the trail read
                            // right after the refusal shows it; yet never
                            // later than `REFUSAL_RECORD_WAIT`: with the
                            // database slow or down the refusal is as quick
                            // as ever, and its record follows. In the call's
                            // span, so it carries the call's trace id.
                            let recording = tokio::spawn(
                                refusals
                                    .record(call, &refused)
                                    .instrument(tracing::Span::current()),
                            );
                            let _ = tokio::time::timeout(REFUSAL_RECORD_WAIT, recording).await;
                        }
                        Err(refused)
                    }
                },
                Err(error) => Err(error),
            };
            match authorized {
                Ok(caller) => {
                    tracing::Span::current().record("enduser.id", caller.subject.as_str());
                    let call = super::CallContext {
                        caller: caller.clone(),
                        rpc: path,
                    };
                    request.extensions_mut().insert(caller);
                    super::serve_as(call, inner.call(request)).await
                }
                Err(error) => Ok(tonic::Status::from(error).into_http()),
            }
        }
        .boxed()
    }
}

async fn authenticate(
    verifier: &TokenVerifier,
    headers: &http::HeaderMap,
) -> Result<super::Caller, Error> {
    let missing = || Error::Unauthenticated {
        reason: "MISSING_CREDENTIALS",
        message: "send 'authorization: Bearer <token>'".into(),
    };
    let value = single(headers, http::header::AUTHORIZATION.as_str())?.ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let token = bearer_token(value).ok_or_else(missing)?;
    let on_behalf_of = match single(headers, super::ON_BEHALF_OF_HEADER)? {
        None => None,
        Some(value) => Some(value.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            Error::Unauthenticated {
                reason: "INVALID_TOKEN",
                message: format!(
                    "send '{}: Bearer <token>' with the original caller's token",
                    super::ON_BEHALF_OF_HEADER
                ),
            }
        })?),
    };
    verifier.authenticate(token, on_behalf_of).await
}

/// The one value of header `name`, if sent. Sent twice it is refused: a
/// proxy in front may have judged the other one.
fn single<'a>(
    headers: &'a http::HeaderMap,
    name: &str,
) -> Result<Option<&'a http::HeaderValue>, Error> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Error::Unauthenticated {
            reason: "INVALID_TOKEN",
            message: format!("send '{name}' once"),
        });
    }
    Ok(first)
}

/// The token of an `authorization` value: the scheme `Bearer` in any case
/// (RFC 7235), then the token after any whitespace.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case_and_the_token_trimmed() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "Bearer\tabc",
            "Bearer   abc  ",
        ] {
            assert_eq!(bearer_token(value), Some("abc"), "{value:?}");
        }
        for value in ["Basic abc", "Bearer", "Bearer   ", "Bearerabc", "abc"] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }

    #[test]
    fn a_header_sent_twice_is_refused() {
        let mut headers = http::HeaderMap::new();
        assert!(matches!(single(&headers, "authorization"), Ok(None)));
        headers.append("authorization", http::HeaderValue::from_static("Bearer a"));
        assert!(matches!(single(&headers, "authorization"), Ok(Some(_))));
        headers.append("authorization", http::HeaderValue::from_static("Bearer b"));
        let refused = single(&headers, "authorization").unwrap_err();
        assert_eq!(refused.reason(), "INVALID_TOKEN");
    }
}
