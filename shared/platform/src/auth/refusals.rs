//! Commands refused at the door (a role the RPC's rule does not admit)
//! still belong in the audit trail (R29: every command records who tried
//! what and how it ended). The door knows the caller and the RPC but not
//! the audit trail, which lives with each service's database; a service
//! hands its server a [`DoorRefusals`] that records them.

use futures::future::BoxFuture;

use super::CallContext;
use crate::error::Error;

/// Records a command the authorization layer refused.
pub trait DoorRefusals: Send + Sync {
    /// The recording that `call` was refused with `error`, run while the
    /// refusal is answered.
    fn record(&self, call: CallContext, error: &Error) -> BoxFuture<'static, ()>;
}

/// The verbs of RPCs that change nothing: AIP's standard and custom reads,
/// a review (`ReviewCart`), the event log's and health's streams. Every
/// other RPC is a command.
const READ_VERBS: [&str; 7] = [
    "Get",
    "List",
    "Check",
    "Verify",
    "Review",
    "Subscribe",
    "Watch",
];

/// Whether the RPC at `path` (`/package.Service/Method`, or a method name)
/// is a command, by its method's verb, the first word of its name
/// (`CheckoutCart` is a checkout, not a check): reads are not audited,
/// refused or not, and never change a row.
pub fn is_command(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    let verb_ends = method
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(method.len(), |(at, _)| at);
    !method.is_empty() && !READ_VERBS.contains(&&method[..verb_ends])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_told_from_reads_by_their_verb() {
        for command in [
            "/twotier.partnership.v1.PartnershipService/RequestPartnership",
            "/twotier.partnership.v1.ProviderListingService/UpdateProviderListing",
            "/twotier.customer.v1.CustomerService/EndDelegatedAdminRelationship",
            "/twotier.subscription.v1.SubscriptionService/CheckoutCart",
            "/twotier.events.v1.DeadLetterService/ReplayDeadLetter",
            "Reviewed",
        ] {
            assert!(is_command(command), "{command}");
        }
        for read in [
            "/twotier.partnership.v1.PartnershipService/GetPartnership",
            "/twotier.partnership.v1.PartnershipService/ListIndirectResellers",
            "/twotier.customer.v1.CustomerService/CheckDomainPrefix",
            "/twotier.partnership.v1.ResellerService/VerifyPartnerId",
            "/twotier.events.v1.EventLogService/Subscribe",
            "/twotier.events.v1.EventLogService/GetLogHead",
            "/twotier.subscription.v1.SubscriptionService/ReviewCart",
            "/grpc.health.v1.Health/Watch",
            "GetCustomer",
            "",
        ] {
            assert!(!is_command(read), "{read}");
        }
    }
}
