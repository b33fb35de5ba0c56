//! Who reads how much of a log (R30). Services and the platform operator
//! read every event as written; a provider's own backend (`Integration`)
//! reads its tenant's feed: only the events written for its tenant, each
//! with the fields a feed never carries left out.
//!
//! Both decisions are generic, so an event type added later is covered
//! without a list to extend: the tenant is the one every event is appended
//! with ([`crate::Event::new`]), and what is left out is decided by field
//! name over the payload's descriptor, at any depth.

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, Value};
use twotier_platform::Error;
use twotier_platform::auth::{Caller, Role};
use twotier_proto::events::EventEnvelope;

/// Roles that read every event of a log, unredacted.
pub(crate) const FULL_READERS: &[Role] = &[Role::Service, Role::PlatformOperator];

/// How much of the log a caller reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Audience {
    /// Every event, as written.
    Full,
    /// The events of this tenant, redacted.
    Tenant(String),
}

impl Audience {
    /// The audience `caller` belongs to; a caller that is neither a full
    /// reader nor an integration is refused.
    pub(crate) fn of(caller: &Caller) -> Result<Self, Error> {
        if FULL_READERS.iter().any(|role| caller.has(*role)) {
            return Ok(Self::Full);
        }
        if caller.has(Role::Integration) && !caller.tenant_id.is_empty() {
            return Ok(Self::Tenant(caller.tenant_id.clone()));
        }
        caller.require_any(&[Role::Service, Role::PlatformOperator, Role::Integration])?;
        Err(Error::permission_denied(
            "a tenant feed needs a token of a tenant",
        ))
    }

    /// The tenant whose events alone this audience reads, if any.
    pub(crate) fn tenant(&self) -> Option<&str> {
        match self {
            Self::Full => None,
            Self::Tenant(tenant) => Some(tenant),
        }
    }

    /// `envelope` as this audience receives it.
    pub(crate) fn present(&self, envelope: EventEnvelope) -> EventEnvelope {
        match self {
            Self::Full => envelope,
            Self::Tenant(_) => redacted(envelope),
        }
    }
}

/// Whether a payload field named `name` is left out of a tenant feed:
/// contact data (`*email*`, `*phone*`, `*address*`, `*first_name*`,
/// `*last_name*`), credentials and personal links (`*password*`,
/// `*secret*`, `*token*`, `*link*`), who did it (`*_by`: user subjects of
/// any party), message text (`to`, `subject`, `body`), and another party's
/// own tenant (`tenant_id`: a reseller's, which no provider API shows; the
/// envelope's is not a payload field). The owning service's API serves
/// what a caller may read of these, checked per resource at the time it
/// asks.
pub fn is_withheld(name: &str) -> bool {
    const CONTAINED: [&str; 9] = [
        "email",
        "phone",
        "address",
        "first_name",
        "last_name",
        "password",
        "secret",
        "token",
        "link",
    ];
    CONTAINED.iter().any(|part| name.contains(part))
        || name.ends_with("_by")
        || ["to", "subject", "body", "tenant_id"].contains(&name)
}

/// The twotier descriptors, decoded once.
fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(twotier_proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

/// `envelope` for a tenant feed: no trace context (service-internal), and
/// a payload with every withheld field, unknown field and extension
/// removed. A payload whose type is not known here is left out whole.
pub(crate) fn redacted(mut envelope: EventEnvelope) -> EventEnvelope {
    envelope.trace_context = None;
    envelope.payload = envelope.payload.take().and_then(|mut payload| {
        let descriptor = pool()?.get_message_by_name(&envelope.event_type)?;
        let mut message = DynamicMessage::decode(descriptor, payload.value.as_slice()).ok()?;
        withhold(&mut message);
        payload.value = message.encode_to_vec();
        Some(payload)
    });
    envelope
}

fn withhold(message: &mut DynamicMessage) {
    let withheld: Vec<_> = message
        .descriptor()
        .fields()
        .filter(|field| is_withheld(field.name()))
        .collect();
    for field in &withheld {
        message.clear_field(field);
    }
    // Fields this build does not know (written by a newer one) and
    // extensions cannot be judged by name: they are left out too.
    message.take_unknown_fields().for_each(drop);
    message.take_extensions().for_each(drop);
    for (_, value) in message.fields_mut() {
        withhold_value(value);
    }
}

fn withhold_value(value: &mut Value) {
    match value {
        Value::Message(message) => withhold(message),
        Value::List(items) => items.iter_mut().for_each(withhold_value),
        Value::Map(entries) => entries.values_mut().for_each(withhold_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use prost::Name;
    use twotier_proto::{customer as cpb, partnership as ppb, subscription as spb};

    use super::*;

    fn envelope<M: Name>(payload: &M) -> EventEnvelope {
        EventEnvelope {
            event_type: M::full_name(),
            tenant_id: "contoso".into(),
            trace_context: Some(Default::default()),
            payload: Some(prost_types::Any::from_msg(payload).expect("encode")),
            ..Default::default()
        }
    }

    fn payload<M: Name + Default>(envelope: &EventEnvelope) -> M {
        envelope
            .payload
            .as_ref()
            .expect("payload")
            .to_msg()
            .expect("decode")
    }

    #[test]
    fn contact_data_credentials_actors_and_text_are_withheld_by_name() {
        for name in [
            "contact_email",
            "reseller_email",
            "placed_by_email",
            "contact_phone",
            "address",
            "signatory_first_name",
            "last_name",
            "temporary_password",
            "invitation_link",
            "accepted_by",
            "to",
            "subject",
            "body",
            "tenant_id",
        ] {
            assert!(is_withheld(name), "{name}");
        }
        for name in [
            "name",
            "partner_id",
            "company_name",
            "provider_id",
            "quantity",
            "create_time",
            "language_code",
        ] {
            assert!(!is_withheld(name), "{name}");
        }
    }

    #[test]
    fn a_redacted_payload_keeps_what_happened_and_loses_contacts_at_any_depth() {
        let created = cpb::CustomerCreated {
            customer: Some(cpb::Customer {
                name: "providers/contoso/customers/1".into(),
                company_name: "Fabrikam".into(),
                address: Some(cpb::Address {
                    city: "Berlin".into(),
                    ..Default::default()
                }),
                primary_contact: Some(cpb::Contact {
                    first_name: "Pat".into(),
                    last_name: "Lee".into(),
                    email: "pat@fabrikam.example".into(),
                    phone: "+49 1".into(),
                }),
                ..Default::default()
            }),
            indirect_reseller: Some(cpb::ResellerContact {
                partner_id: "4567890".into(),
                company_name: "Adatum".into(),
                contact_email: "admin@adatum.example".into(),
                language_code: "de".into(),
            }),
        };
        let fed = redacted(envelope(&created));
        assert!(fed.trace_context.is_none());
        let seen: cpb::CustomerCreated = payload(&fed);
        let customer = seen.customer.expect("customer");
        assert_eq!(customer.name, "providers/contoso/customers/1");
        assert_eq!(customer.company_name, "Fabrikam");
        assert!(customer.address.is_none());
        assert_eq!(customer.primary_contact, Some(cpb::Contact::default()));
        let reseller = seen.indirect_reseller.expect("reseller");
        assert_eq!(reseller.partner_id, "4567890");
        assert!(reseller.contact_email.is_empty());
    }

    #[test]
    fn repeated_messages_are_redacted_and_email_text_is_left_out() {
        let placed = spb::OrderPlaced {
            placed_by_email: "alice@contoso.example".into(),
            resellers_of_record: vec![spb::ResellerContact {
                partner_id: "4567890".into(),
                contact_email: "admin@adatum.example".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let seen: spb::OrderPlaced = payload(&redacted(envelope(&placed)));
        assert!(seen.placed_by_email.is_empty());
        assert_eq!(seen.resellers_of_record[0].partner_id, "4567890");
        assert!(seen.resellers_of_record[0].contact_email.is_empty());

        let requested = ppb::InvitationEmailRequested {
            invitation: "providers/contoso/invitations/1".into(),
            to: "admin@adatum.example".into(),
            subject: "Partner with us".into(),
            body: "Open the link".into(),
            ..Default::default()
        };
        let seen: ppb::InvitationEmailRequested = payload(&redacted(envelope(&requested)));
        assert_eq!(seen.invitation, "providers/contoso/invitations/1");
        assert!(seen.to.is_empty() && seen.subject.is_empty() && seen.body.is_empty());
    }

    #[test]
    fn unknown_fields_and_unknown_types_are_left_out() {
        let mut written = envelope(&ppb::InvitationRevoked {
            invitation: "providers/contoso/invitations/1".into(),
            provider_id: "contoso".into(),
        });
        // Field 15, unknown to this build, as a newer writer might add it.
        if let Some(payload) = written.payload.as_mut() {
            payload
                .value
                .extend_from_slice(&[0x7a, 0x03, b'a', b'@', b'b']);
        }
        let seen = redacted(written.clone());
        let value = &seen.payload.as_ref().expect("payload").value;
        assert!(!value.ends_with(b"a@b"), "unknown field left out");
        written.event_type = "twotier.test.v1.Unknown".into();
        assert!(redacted(written).payload.is_none());
    }
}
