//! Offers (R14).

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::{names, paging};
use twotier_proto::subscription as pb;

use super::Api;

const OFFER: [&str; 2] = ["offers", "*"];

fn reader<T>(request: &Request<T>) -> Result<(), twotier_platform::Error> {
    Caller::of(request)?.require_any(&[Role::GlobalAdmin, Role::SalesAgent, Role::PlatformOperator])
}

impl Api {
    pub(super) async fn list_offers_call(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        reader(&request)?;
        let tenant = Caller::of(&request)?.tenant_id.clone();
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        let (offers, next_page_token) = self
            .pages
            .list::<pb::ListOffersRequest>(&tenant)
            .serve(&request.page_token, async |token| {
                self.domain.list_offers(page_size, token).await
            })
            .await?;
        Ok(Response::new(pb::ListOffersResponse {
            offers,
            next_page_token,
        }))
    }

    pub(super) async fn get_offer_call(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<Response<pb::Offer>, Status> {
        reader(&request)?;
        let [offer_id] = names::require(&request.get_ref().name, &OFFER, "name")?;
        Ok(Response::new(self.domain.get_offer(offer_id).await?))
    }
}
