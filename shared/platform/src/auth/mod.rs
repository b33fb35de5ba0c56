//! Identity: every call carries `authorization: Bearer <JWT>`. User tokens
//! come from the identity provider and are checked with its public keys;
//! service tokens are minted by twotier services with their own key and
//! grant only the `Service` role. The verified [`Caller`] travels in the
//! request extensions.

mod bearer;
mod call;
mod caller;
mod claims;
mod jwks;
mod layer;
mod minting;
mod policy;
mod refusals;
mod secret;
mod verifier;

pub use bearer::Bearer;
pub use call::{CallContext, current_call, serve_as};
pub use caller::{Caller, Role};
pub use claims::{Claims, FOR_TENANT_HEADER, ON_BEHALF_OF_HEADER, SERVICE_ISSUER, SERVICE_TENANT};
pub use jwks::{Jwks, JwksSettings, KeyError};
pub use layer::{AuthLayer, is_public};
pub use minting::{SERVICE_KEY_PURPOSE, ServiceTokens, TokenMinter};
pub use policy::{Access, PROVIDER, Policy, Rule};
pub use refusals::{DoorRefusals, is_command};
pub use secret::{MIN_SECRET_BYTES, Secret, SecretError, SecretSource};
pub use verifier::{TokenRules, TokenVerifier, UserKeys};
