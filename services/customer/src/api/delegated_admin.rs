//! `ListDelegatedAdminRelationships` (R9).

use tonic::Request;
use twotier_platform::{Error, names};
use twotier_proto::customer as pb;

use super::{Api, CUSTOMER, convert};
use crate::store;

impl Api {
    /// The delegations of a customer the caller may see.
    pub(super) async fn relationships(
        &self,
        request: Request<pb::ListDelegatedAdminRelationshipsRequest>,
    ) -> Result<pb::ListDelegatedAdminRelationshipsResponse, Error> {
        let viewer = self.viewer(&request).await?;
        let [provider_id, customer_id] =
            names::require(&request.get_ref().parent, &CUSTOMER, "parent")?;
        let db = self.outbox.db();
        let customer =
            viewer.visible(store::customer::find(db, provider_id, customer_id).await?)?;
        let grants = store::delegated_admin::list(db, &customer.id).await?;
        Ok(pb::ListDelegatedAdminRelationshipsResponse {
            delegated_admin_relationships: grants.into_iter().map(convert::relationship).collect(),
        })
    }
}
