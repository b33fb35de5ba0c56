//! Requests that tests in several files send: a fully attested removal of a
//! partnership and the first page of a provider's indirect resellers.

use twotier_proto::partnership as pb;

pub fn full_attestation() -> pb::RemovalAttestation {
    pb::RemovalAttestation {
        good_faith: true,
        legitimate_business_purpose: true,
        per_agreements: true,
        indemnifies_platform: true,
    }
}

pub fn remove(provider: &str, partner_id: &str) -> pb::RemovePartnershipRequest {
    pb::RemovePartnershipRequest {
        name: format!("providers/{provider}/indirectResellers/{partner_id}"),
        confirm: true,
        attestation: Some(full_attestation()),
        etag: String::new(),
    }
}

pub fn list(provider: &str) -> pb::ListIndirectResellersRequest {
    pb::ListIndirectResellersRequest {
        parent: format!("providers/{provider}"),
        ..Default::default()
    }
}
