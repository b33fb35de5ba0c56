//! Reading a service's audit trail (R29) as a caller would.

use tonic::transport::Channel;
use twotier_platform::auth::Bearer;
use twotier_proto::audit::audit_log_service_client::AuditLogServiceClient;
use twotier_proto::audit::{AuditRecord, ListAuditRecordsRequest};

/// The audit records of the service behind `channel` that `token` reads,
/// newest first (a first page of 500): of `resource` and of the RPC named
/// `rpc` (`RemovePartnership`), each unless it is empty.
pub async fn audit_records(
    channel: Channel,
    token: &str,
    resource: &str,
    rpc: &str,
) -> Vec<AuditRecord> {
    AuditLogServiceClient::with_interceptor(channel, Bearer::new(token))
        .list_audit_records(ListAuditRecordsRequest {
            resource: resource.into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("list audit records")
        .into_inner()
        .audit_records
        .into_iter()
        .filter(|record| rpc.is_empty() || record.rpc.ends_with(&format!("/{rpc}")))
        .collect()
}
