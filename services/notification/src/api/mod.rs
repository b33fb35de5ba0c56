//! The notification service's gRPC door: listing and reading notifications
//! (R21).

pub mod access;
pub(crate) mod convert;
mod notification;

use sea_orm::DatabaseConnection;
use tonic::Request;
use twotier_platform::Error;
use twotier_platform::auth::{Caller, Role};
use twotier_platform::paging::PageTokens;

/// Implements `NotificationService`.
#[derive(Clone)]
pub struct Api {
    db: DatabaseConnection,
    pages: PageTokens,
}

impl Api {
    /// The API over `db`, sealing page tokens with `pages`.
    pub fn new(db: DatabaseConnection, pages: PageTokens) -> Self {
        Self { db, pages }
    }
}

/// The tenant a caller is limited to: none for the platform operator, its
/// own for provider users (the access rules admit no one else).
fn scope<T>(request: &Request<T>) -> Result<Option<String>, Error> {
    let caller = Caller::of(request)?;
    if caller.has(Role::PlatformOperator) {
        return Ok(None);
    }
    Ok(Some(caller.tenant_id.clone()))
}
