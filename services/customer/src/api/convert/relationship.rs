//! Reseller relationship requests (R22) as resources and events, and their
//! replies with the token sealed for storage.

use chrono::{DateTime, Utc};
use twotier_outbox::Event;
use twotier_platform::capability;
use twotier_platform::email_draft::EmailDraft;
use twotier_platform::names::etag;
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_proto::customer as pb;

use super::customer_name;
use crate::domain::{PersonalLink, RelationshipRequest, RequestState};

/// The aggregate type of a request's events.
const AGGREGATE: &str = "relationship_request";

/// The resource name of a request.
pub fn request_name(request: &RelationshipRequest) -> String {
    format!(
        "{}/resellerRelationshipRequests/{}",
        customer_name(&request.provider_id, &request.customer_id),
        request.id
    )
}

fn state(state: RequestState) -> pb::ResellerRelationshipRequestState {
    match state {
        RequestState::Pending => pb::ResellerRelationshipRequestState::Pending,
        RequestState::Accepted => pb::ResellerRelationshipRequestState::Accepted,
        RequestState::Revoked => pb::ResellerRelationshipRequestState::Revoked,
        RequestState::Expired => pb::ResellerRelationshipRequestState::Expired,
    }
}

/// `request` as it stands at `now`.
pub fn request(
    request: &RelationshipRequest,
    now: DateTime<Utc>,
) -> pb::ResellerRelationshipRequest {
    let acceptance = request.acceptance();
    pb::ResellerRelationshipRequest {
        name: request_name(request),
        customer: customer_name(&request.provider_id, &request.customer_id),
        partner_id: request.partner_id.clone(),
        reseller_company_name: request.reseller_company_name.clone(),
        customer_admin_email: request.admin_email.clone(),
        language_code: request.language_code.clone(),
        state: state(request.state_at(now)).into(),
        created_by: request.created_by.clone(),
        create_time: Some(timestamp(request.created_at)),
        expire_time: Some(timestamp(request.expires_at)),
        accept_time: optional_timestamp(acceptance.map(|(at, _)| at)),
        accepted_by: acceptance.map(|(_, by)| by.to_owned()).unwrap_or_default(),
        revoke_time: optional_timestamp(request.revoked_at()),
        etag: etag(request.version),
    }
}

/// A draft as the API shows it.
pub fn email_draft(draft: EmailDraft) -> pb::RelationshipEmailDraft {
    pb::RelationshipEmailDraft {
        to: draft.to,
        subject: draft.subject,
        body: draft.body,
        mailto_uri: draft.mailto_uri,
        plain_text: draft.plain_text,
    }
}

/// An event about `request`, in its provider's log.
pub fn event<M: prost::Name>(request: &RelationshipRequest, payload: &M) -> Event {
    Event::new(AGGREGATE, &request.id, &request.provider_id, payload)
}

/// `ResellerRelationshipEmailRequested`; `sealed_body` holds the marker in
/// place of the token.
pub fn email_requested(request: &RelationshipRequest, subject: &str, sealed_body: String) -> Event {
    let payload = pb::ResellerRelationshipEmailRequested {
        reseller_relationship_request: request_name(request),
        to: request.admin_email.clone(),
        subject: subject.to_owned(),
        body: sealed_body,
        language_code: request.language_code.clone(),
    };
    event(request, &payload)
}

/// The reply as it may be stored for retries: the token replaced by the
/// marker everywhere it appears.
pub fn sealed(
    response: &pb::RequestResellerRelationshipResponse,
    token: &str,
) -> pb::RequestResellerRelationshipResponse {
    capability::seal_reply(response, token, link_texts)
}

/// A stored reply with its request's token, `token_of` its id, put back.
pub fn unsealed(
    response: pb::RequestResellerRelationshipResponse,
    token_of: impl FnOnce(&str) -> String,
) -> pb::RequestResellerRelationshipResponse {
    let name = response
        .reseller_relationship_request
        .as_ref()
        .map(|request| request.name.as_str())
        .unwrap_or_default();
    let token = token_of(name.rsplit('/').next().unwrap_or_default());
    capability::unseal_reply(response, &token, link_texts)
}

/// Every text of the reply that may hold the link.
fn link_texts(response: &mut pb::RequestResellerRelationshipResponse) -> Vec<&mut String> {
    let mut texts = vec![&mut response.relationship_link];
    if let Some(draft) = response.email_draft.as_mut() {
        texts.extend([
            &mut draft.body,
            &mut draft.mailto_uri,
            &mut draft.plain_text,
        ]);
    }
    texts
}

#[cfg(test)]
mod tests {
    use twotier_platform::capability::CapabilityTokens;

    use super::*;

    #[test]
    fn r22_a_stored_reply_holds_no_token_and_unseals_to_the_original() {
        let tokens = CapabilityTokens::new([5; 32]);
        let token_of = |id: &str| tokens.token("relationship", id);
        let token = token_of("0192");
        let link = crate::domain::relationship_request::link("https://x.example/accept", &token);
        let response = pb::RequestResellerRelationshipResponse {
            reseller_relationship_request: Some(pb::ResellerRelationshipRequest {
                name: "providers/contoso/customers/c1/resellerRelationshipRequests/0192".into(),
                ..Default::default()
            }),
            relationship_link: link.clone(),
            email_draft: Some(pb::RelationshipEmailDraft {
                to: "admin@adatum.onmicrosoft.com".into(),
                subject: "Reseller".into(),
                body: format!("Open {link}"),
                mailto_uri: format!("mailto:a@b.example?body=Open%20{link}"),
                plain_text: format!("Open {link}"),
            }),
        };
        let stored = sealed(&response, &token);
        assert!(!format!("{stored:?}").contains(&token));
        assert_eq!(unsealed(stored, token_of), response);
        assert_eq!(unsealed(response.clone(), token_of), response);
    }
}
