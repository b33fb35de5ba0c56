//! Invitations, their email drafts and events (R4, R5), and replies with
//! an invitation's token sealed for storage.

use chrono::{DateTime, Utc};
use twotier_outbox::Event;
use twotier_platform::capability;
use twotier_platform::names::etag;
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_proto::partnership as pb;

use super::{invitation_name, partnership_name};
use crate::domain::{EmailDraft, Invitation, InvitationState, PersonalLink};

fn invitation_state(state: InvitationState) -> pb::InvitationState {
    match state {
        InvitationState::Pending => pb::InvitationState::Pending,
        InvitationState::Accepted => pb::InvitationState::Accepted,
        InvitationState::Revoked => pb::InvitationState::Revoked,
        InvitationState::Expired => pb::InvitationState::Expired,
    }
}

/// `invitation` as it stands at `now`.
pub(in crate::api) fn invitation(invitation: &Invitation, now: DateTime<Utc>) -> pb::Invitation {
    pb::Invitation {
        name: invitation_name(&invitation.provider_id, &invitation.id),
        state: invitation_state(invitation.state_at(now)).into(),
        partnership: invitation
            .partnership_id()
            .map(|id| partnership_name(&invitation.provider_id, id))
            .unwrap_or_default(),
        reseller_email: invitation.reseller_email.clone(),
        language_code: invitation.language_code.clone(),
        create_time: Some(timestamp(invitation.created_at)),
        expire_time: Some(timestamp(invitation.expires_at)),
        created_by: invitation.created_by.clone(),
        accept_time: optional_timestamp(invitation.accepted_at()),
        revoke_time: optional_timestamp(invitation.revoked_at()),
        etag: etag(invitation.version),
    }
}

pub(in crate::api) fn email_draft(draft: EmailDraft) -> pb::EmailDraft {
    pb::EmailDraft {
        to: draft.to,
        subject: draft.subject,
        body: draft.body,
        mailto_uri: draft.mailto_uri,
        plain_text: draft.plain_text,
    }
}

pub(in crate::api) fn invitation_created(invitation: &Invitation) -> Event {
    let payload = pb::InvitationCreated {
        invitation: invitation_name(&invitation.provider_id, &invitation.id),
        provider_id: invitation.provider_id.clone(),
        reseller_email: invitation.reseller_email.clone(),
        language_code: invitation.language_code.clone(),
        expire_time: Some(timestamp(invitation.expires_at)),
    };
    invitation_event(invitation, &payload)
}

/// `InvitationEmailRequested`; `sealed_body` holds the marker in place of
/// the token.
pub(in crate::api) fn invitation_email_requested(
    invitation: &Invitation,
    subject: &str,
    sealed_body: String,
    provider_display_name: String,
) -> Event {
    let payload = pb::InvitationEmailRequested {
        invitation: invitation_name(&invitation.provider_id, &invitation.id),
        provider_id: invitation.provider_id.clone(),
        to: invitation.reseller_email.clone(),
        subject: subject.to_owned(),
        body: sealed_body,
        language_code: invitation.language_code.clone(),
        provider_display_name,
    };
    invitation_event(invitation, &payload)
}

pub(in crate::api) fn invitation_revoked(invitation: &Invitation) -> Event {
    let payload = pb::InvitationRevoked {
        invitation: invitation_name(&invitation.provider_id, &invitation.id),
        provider_id: invitation.provider_id.clone(),
    };
    invitation_event(invitation, &payload)
}

fn invitation_event<M: prost::Name>(invitation: &Invitation, payload: &M) -> Event {
    Event::new(
        "invitation",
        &invitation.id,
        &invitation.provider_id,
        payload,
    )
}

/// The reply as it may be stored for retries: the token replaced by the
/// marker everywhere it appears.
pub(in crate::api) fn sealed(
    response: &pb::RequestPartnershipResponse,
    token: &str,
) -> pb::RequestPartnershipResponse {
    capability::seal_reply(response, token, link_texts)
}

/// A stored reply with its invitation's token, `token_of` its id, put
/// back.
pub(in crate::api) fn unsealed(
    response: pb::RequestPartnershipResponse,
    token_of: impl FnOnce(&str) -> String,
) -> pb::RequestPartnershipResponse {
    let id = response
        .invitation
        .as_ref()
        .and_then(|invitation| invitation.name.rsplit('/').next())
        .unwrap_or_default();
    let token = token_of(id);
    capability::unseal_reply(response, &token, link_texts)
}

/// Every text of the reply that may hold the link.
fn link_texts(response: &mut pb::RequestPartnershipResponse) -> Vec<&mut String> {
    let mut texts = vec![&mut response.invitation_link];
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
    fn a_stored_reply_holds_no_token_and_unseals_to_the_original() {
        let tokens = CapabilityTokens::new([3; 32]);
        let token_of = |id: &str| tokens.token("invitation", id);
        let token = token_of("0191");
        let link = crate::domain::invitation::link("https://x.example/accept", &token);
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
        assert_eq!(unsealed(stored, token_of), response);
        assert_eq!(
            unsealed(response.clone(), token_of),
            response,
            "a first answer is its own"
        );
    }
}
