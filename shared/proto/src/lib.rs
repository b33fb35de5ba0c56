//! Generated message types, clients and servers for every twotier `.proto`
//! file, and the encoded descriptor set that gRPC reflection serves.
//!
//! Modules follow the proto packages: `twotier::partnership::v1` and so on.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/_includes.rs"));

pub mod codec;

pub use codec::ERROR_DOMAIN;

/// Encoded `FileDescriptorSet` of every twotier proto and its imports.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/twotier_descriptor.bin"));

pub use twotier::audit::v1 as audit;
pub use twotier::customer::v1 as customer;
pub use twotier::events::v1 as events;
pub use twotier::notification::v1 as notification;
pub use twotier::partnership::v1 as partnership;
pub use twotier::subscription::v1 as subscription;

impl std::fmt::Debug for customer::AdminCredentials {
    /// Never prints the temporary password, so it cannot reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredentials")
            .field("user_name", &self.user_name)
            .field("temporary_password", &"<redacted>")
            .finish()
    }
}
