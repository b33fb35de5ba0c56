//! Read-your-writes across services for a command that just failed a
//! projection check.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tonic::transport::Channel;
use twotier_platform::auth::ServiceTokens;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;

/// Waits until a consumer's projection includes everything its upstream had
/// sequenced at the time of asking: read-your-writes across services for a
/// command that just failed a projection check.
#[derive(Clone)]
pub struct Freshness {
    pub(super) progress: watch::Receiver<u64>,
    /// The consumer's own channel: asking for the head costs no new
    /// connection.
    pub(super) channel: Option<Channel>,
    pub(super) service_tokens: Arc<ServiceTokens>,
}

impl Freshness {
    /// Asks the upstream for its head and waits, at most `deadline`, until
    /// the consumer has handled it. Returns whether it caught up; a failure
    /// to reach the upstream counts as not caught up.
    pub async fn catch_up(&self, deadline: Duration) -> bool {
        let caught_up = async {
            let Some(head) = self.upstream_head().await else {
                return false;
            };
            let mut progress = self.progress.clone();
            progress.wait_for(|cursor| *cursor >= head).await.is_ok()
        };
        tokio::time::timeout(deadline, caught_up)
            .await
            .unwrap_or(false)
    }

    pub(super) async fn upstream_head(&self) -> Option<u64> {
        let channel = self.channel.clone()?;
        let token = self.service_tokens.token().ok()?;
        let mut request = tonic::Request::new(twotier_proto::events::GetLogHeadRequest {});
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().ok()?);
        // Asked for a caller's command: admitted under that caller's share.
        if let Some(call) = twotier_platform::auth::current_call()
            && let Ok(tenant) = call.caller.tenant_id.parse()
        {
            request
                .metadata_mut()
                .insert(twotier_platform::auth::FOR_TENANT_HEADER, tenant);
        }
        let head = EventLogServiceClient::new(channel)
            .get_log_head(request)
            .await
            .ok()?;
        Some(head.into_inner().head_position)
    }
}
