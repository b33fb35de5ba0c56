//! Handlers of the upstream logs: which event asks for which email, to
//! whom, in which language.

mod customer;
mod partnership;
mod profile;
mod subscription;

pub use customer::CustomerEmails;
pub use partnership::PartnershipEmails;
pub use subscription::SubscriptionEmails;

/// Upstream log names, as cursor keys.
pub mod upstream {
    pub const PARTNERSHIP: &str = "partnership";
    pub const CUSTOMER: &str = "customer";
    pub const SUBSCRIPTION: &str = "subscription";
}

fn name_of<M: prost::Name>() -> String {
    M::full_name()
}

/// The language of an email: the recipient's preference, English when
/// unknown.
fn language(preference: &str) -> String {
    if preference == "de" {
        "de".to_owned()
    } else {
        "en".to_owned()
    }
}
