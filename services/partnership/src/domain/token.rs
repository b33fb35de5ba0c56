//! Invitation links. The token in a link is a capability token derived
//! from the invitation's id (see `twotier_platform::capability`): only its
//! hash is stored, and events and stored replies carry a marker instead.

use twotier_platform::capability::{self, CapabilityTokens};
use twotier_proto::partnership as pb;

/// The kind under which invitation tokens are derived.
pub(crate) const INVITATION_KIND: &str = "invitation";

/// The link a reseller opens to accept.
pub(crate) fn link(base: &str, token: &str) -> String {
    format!("{base}?token={token}")
}

/// The response as it may be stored for retries: the token replaced by the
/// marker everywhere it appears.
pub(crate) fn sealed(
    response: &pb::RequestPartnershipResponse,
    token: &str,
) -> pb::RequestPartnershipResponse {
    map_text(response, |text| capability::seal(text, token))
}

/// A stored response with the invitation's token put back.
pub(crate) fn unsealed(
    response: pb::RequestPartnershipResponse,
    tokens: &CapabilityTokens,
) -> pb::RequestPartnershipResponse {
    let id = response
        .invitation
        .as_ref()
        .and_then(|invitation| invitation.name.rsplit('/').next())
        .unwrap_or_default()
        .to_owned();
    let token = tokens.token(INVITATION_KIND, &id);
    map_text(&response, |text| capability::unseal(text, &token))
}

fn map_text(
    response: &pb::RequestPartnershipResponse,
    map: impl Fn(&str) -> String,
) -> pb::RequestPartnershipResponse {
    let mut mapped = response.clone();
    mapped.invitation_link = map(&response.invitation_link);
    if let Some(draft) = mapped.email_draft.as_mut() {
        draft.body = map(&draft.body);
        draft.mailto_uri = map(&draft.mailto_uri);
        draft.plain_text = map(&draft.plain_text);
    }
    mapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_response_holds_no_token_and_unseals_to_the_original() {
        let tokens = CapabilityTokens::new([3; 32]);
        let token = tokens.token(INVITATION_KIND, "0191");
        let link = link("https://x.example/accept", &token);
        let response = pb::RequestPartnershipResponse {
            invitation: Some(pb::Invitation {
                name: "providers/contoso/invitations/0191".into(),
                ..Default::default()
            }),
            invitation_link: link.clone(),
            email_draft: Some(pb::EmailDraft {
                to: "a@b.example".into(),
                subject: "Partner with us".into(),
                body: format!("Open {link}"),
                mailto_uri: format!("mailto:a@b.example?body=Open%20{link}"),
                plain_text: format!("Open {link}"),
            }),
        };
        let stored = sealed(&response, &token);
        assert!(!format!("{stored:?}").contains(&token));
        assert_eq!(unsealed(stored, &tokens), response);
    }
}
