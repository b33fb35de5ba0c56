//! Offers (R14).

use tonic::Request;
use twotier_platform::{Error, names, paging};
use twotier_proto::subscription as pb;

use super::{Api, caller, convert};
use crate::domain::OfferError;
use crate::store;

const OFFER: [&str; 2] = ["offers", "*"];

impl Api {
    pub(super) async fn list_offers_call(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<pb::ListOffersResponse, Error> {
        let tenant = caller(&request)?.tenant_id;
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        let (offers, next_page_token) = self
            .pages
            .list::<pb::ListOffersRequest>(&tenant)
            .serve(&request.page_token, async |token| {
                store::catalog::list(self.db(), page_size, token).await
            })
            .await?;
        Ok(pb::ListOffersResponse {
            offers: offers.iter().map(convert::offer).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_offer_call(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<pb::Offer, Error> {
        let [offer_id] = names::require(&request.get_ref().name, &OFFER, "name")?;
        let offer = store::catalog::find(self.db(), offer_id)
            .await?
            .ok_or_else(|| OfferError::NotFound(offer_id.to_owned()))?;
        Ok(convert::offer(&offer))
    }
}
