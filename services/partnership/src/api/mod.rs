//! The gRPC face of the partnership service: decode and validate requests,
//! authorize the caller, call the domain, map its errors.

mod listings;
mod partnerships;
mod resellers;

use tonic::Status;
use twotier_platform::Error;
use twotier_platform::auth::Caller;

use crate::domain::{PartnershipError, Partnerships};

/// Implements `ProviderListingService`, `ResellerService` and
/// `PartnershipService` over the domain.
#[derive(Clone)]
pub struct Api {
    domain: Partnerships,
}

impl Api {
    /// The API over `domain`.
    pub fn new(domain: Partnerships) -> Self {
        Self { domain }
    }
}

impl From<PartnershipError> for Status {
    fn from(error: PartnershipError) -> Self {
        Error::from(error).into()
    }
}

/// Checks that `provider_id` (from a resource name) is the caller's own
/// tenant. Another provider's resources do not exist for the caller.
fn own_provider(caller: &Caller, provider_id: &str) -> Result<(), Error> {
    if caller.tenant_id == provider_id {
        return Ok(());
    }
    Err(Error::NotFound {
        reason: "PROVIDER_NOT_FOUND",
        message: format!("providers/{provider_id} is not found"),
    })
}

/// Resolves an update mask against the fields an update may change: an
/// empty mask means all of them; an unknown path is an error.
fn mask_paths<'a>(
    mask: Option<&'a prost_types::FieldMask>,
    allowed: &[&'a str],
    prefix: &str,
) -> Result<Vec<&'a str>, Error> {
    let paths: Vec<&str> = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(String::as_str).collect(),
        _ => return Ok(allowed.to_vec()),
    };
    for path in &paths {
        let path = path.strip_prefix(prefix).unwrap_or(path);
        if !allowed.contains(&path) {
            return Err(Error::invalid_field(
                "INVALID_UPDATE_MASK",
                "update_mask",
                format!("{path} cannot be updated; allowed: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(paths
        .into_iter()
        .map(|p| p.strip_prefix(prefix).unwrap_or(p))
        .collect())
}

/// The language a request asked for: empty means English.
fn language_or_default(language: &str) -> String {
    if language.is_empty() {
        return "en".to_owned();
    }
    language.to_owned()
}
