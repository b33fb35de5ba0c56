//! Identity: every call carries `authorization: Bearer <JWT>`. The token's
//! signature, issuer, audience and expiry are checked before any service
//! code runs; the verified [`Caller`] travels in the request extensions.

mod bearer;
mod caller;
mod keys;
mod layer;
mod tokens;

pub use bearer::Bearer;
pub use caller::{Caller, Role};
pub use keys::{KeyMaterial, load_key_material};
pub use layer::AuthLayer;
pub use tokens::{Claims, TokenMinter, TokenVerifier};
