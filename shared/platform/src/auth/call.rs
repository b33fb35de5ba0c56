//! The call being served: who made it and which RPC, available to the code
//! the call runs (the command unit of work records it in the audit trail)
//! without threading it through every signature.

use super::Caller;

/// Who called which RPC.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The verified caller.
    pub caller: Caller,
    /// The full gRPC method, e.g. `/twotier.partnership.v1.PartnershipService/RemovePartnership`.
    pub rpc: String,
}

tokio::task_local! {
    static CURRENT_CALL: CallContext;
}

/// Runs `served` (the rest of a call) with `call` as the current call.
pub async fn serve_as<F: Future>(call: CallContext, served: F) -> F::Output {
    CURRENT_CALL.scope(call, served).await
}

/// The call this code runs for, if it runs for one (not in a background
/// task).
pub fn current_call() -> Option<CallContext> {
    CURRENT_CALL.try_with(Clone::clone).ok()
}
