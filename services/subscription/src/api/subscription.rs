//! Subscriptions (R16-R19): reading them, licence quantity, reseller of
//! record and support contact; each reseller verified as `VerifyPartnerId`
//! verifies it (R24), and a change to the current values written nowhere
//! (R25).

use chrono::Utc;
use sea_orm::ConnectionTrait;
use tonic::Request;
use twotier_outbox::{Contested, Event, Reply};
use twotier_partners::eligibility;
use twotier_platform::auth::Caller;
use twotier_platform::by_position::ReadFrom;
use twotier_platform::change::Change;
use twotier_platform::{Error, names, paging};
use twotier_proto::subscription as pb;

use super::cart::CUSTOMER;
use super::{Api, caller, convert};
use crate::domain::{PartyError, Subscription, SubscriptionError, SupportContact};
use crate::store;

const SUBSCRIPTION: [&str; 6] = ["providers", "*", "customers", "*", "subscriptions", "*"];

/// The customer and subscription id of a subscription name.
pub(super) fn customer_and_id(name: &str) -> Result<(String, String), Error> {
    let [provider_id, customer_id, subscription_id] = names::require(name, &SUBSCRIPTION, "name")?;
    Ok((
        format!("providers/{provider_id}/customers/{customer_id}"),
        subscription_id.to_owned(),
    ))
}

/// A PartnerID the request names in `field`, empty for none; a malformed
/// one is refused as `VerifyPartnerId` refuses it (R24).
fn optional_partner_id(value: &str, field: &'static str) -> Result<Option<String>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    eligibility::well_formed(value).map_err(|malformed| malformed.chosen_in(field))?;
    Ok(Some(value.to_owned()))
}

/// `subscriptions` as resources, with their offers' names.
async fn described(
    db: &impl ReadFrom,
    subscriptions: &[Subscription],
) -> Result<Vec<pb::Subscription>, Error> {
    let offers =
        store::catalog::find_many(db, subscriptions.iter().map(|s| s.offer_id.as_str())).await?;
    Ok(subscriptions
        .iter()
        .map(|subscription| {
            let name = offers
                .get(&subscription.offer_id)
                .map_or("", |offer| offer.display_name.as_str());
            convert::subscription(subscription, name)
        })
        .collect())
}

/// A provider acts on its own customers only. Checked before a command's
/// other checks, outside [`twotier_outbox::Outbox::audited`]: another
/// provider's refusal must not land in this provider's audit trail (where
/// it would show who tried). Anyone else is checked by the customer service.
pub(super) fn require_own_customer(caller: &Caller, customer: &str) -> Result<(), Error> {
    let Some([provider_id, _]) = names::parse::<2>(customer, &CUSTOMER) else {
        return Err(PartyError::CustomerNotFound.into());
    };
    if caller.is_provider() {
        caller.require_own_provider(provider_id)?;
    }
    Ok(())
}

/// `subscription` as a resource, with its offer's name.
pub(super) async fn described_one(
    db: &impl ReadFrom,
    subscription: Subscription,
) -> Result<pb::Subscription, Error> {
    described(db, std::slice::from_ref(&subscription))
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("a described subscription went missing".into()))
}

impl Api {
    /// Checks that the caller may see `customer`'s subscriptions: the
    /// provider that owns it, or a reseller admin it is delegated to (asked
    /// fresh of the customer service).
    async fn authorize_customer(&self, caller: &Caller, customer: &str) -> Result<(), Error> {
        require_own_customer(caller, customer)?;
        if caller.is_provider() {
            return Ok(());
        }
        self.upstream.customer(caller, customer).await.map(|_| ())
    }

    /// Checks that the caller may see `customer`'s subscriptions, and reads
    /// its company name fresh for the events of a change.
    pub(super) async fn customer_company_name(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<String, Error> {
        require_own_customer(caller, customer)?;
        // For anyone else the customer service's answer is the check (one
        // call, where asking it twice answered the same).
        Ok(self.upstream.customer(caller, customer).await?.company_name)
    }

    /// One subscription of `customer` as it is now: for a read, or before
    /// a command asks anyone else whether it would change at all (R25).
    async fn current(&self, customer: &str, subscription_id: &str) -> Result<Subscription, Error> {
        Ok(
            store::subscription::find(self.db(), customer, subscription_id)
                .await?
                .ok_or(SubscriptionError::NotFound)?,
        )
    }

    /// One subscription of `customer`, for a command to decide on in its
    /// unit of work `db`: locked until it ends (see
    /// [`store::subscription::find_for_update`]).
    pub(super) async fn subscription(
        &self,
        db: &impl ConnectionTrait,
        customer: &str,
        subscription_id: &str,
    ) -> Result<Subscription, Error> {
        Ok(
            store::subscription::find_for_update(db, customer, subscription_id)
                .await?
                .ok_or(SubscriptionError::NotFound)?,
        )
    }

    pub(super) async fn list_subscriptions_call(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Result<pb::ListSubscriptionsResponse, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        names::require::<2>(&request.parent, &CUSTOMER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        self.authorize_customer(&caller, &request.parent).await?;
        let (subscriptions, next_page_token) = self
            .pages
            .list::<pb::ListSubscriptionsRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                let (page, next) =
                    store::subscription::list(self.db(), &request.parent, page_size, token).await?;
                Ok::<_, Error>((described(self.db(), &page).await?, next))
            })
            .await?;
        // A provider is trusted with its own names without asking the
        // customer service; an empty first page may then be a customer that
        // does not exist, which it hears as `NOT_FOUND`, as a reseller does.
        if subscriptions.is_empty() && request.page_token.is_empty() && caller.is_provider() {
            self.upstream.customer(&caller, &request.parent).await?;
        }
        Ok(pb::ListSubscriptionsResponse {
            subscriptions,
            next_page_token,
        })
    }

    pub(super) async fn get_subscription_call(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let (customer, subscription_id) = customer_and_id(&request.get_ref().name)?;
        self.authorize_customer(&caller, &customer).await?;
        let found = self.current(&customer, &subscription_id).await?;
        described_one(self.db(), found).await
    }

    /// R17: the licence quantity, within the offer's limits.
    pub(super) async fn change_quantity_call(
        &self,
        request: Request<pb::ChangeLicenseQuantityRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let (customer, subscription_id) = customer_and_id(&request.name)?;
        require_own_customer(&caller, &customer)?;
        self.outbox
            .audited(&request.name, "", async {
                self.authorize_customer(&caller, &customer).await?;
                let expected = convert::expected_version(&request.etag);
                self.outbox
                    .command(&request.name, None, async |tx| {
                        let db = &**tx;
                        let mut current =
                            self.subscription(db, &customer, &subscription_id).await?;
                        let offer = store::catalog::find(db, &current.offer_id).await?;
                        let now = Utc::now();
                        let change = current.change_quantity(
                            request.quantity,
                            expected,
                            offer.as_ref(),
                            now,
                        )?;
                        let Some(previous_quantity) = change.changed() else {
                            return Ok(Reply::new(described_one(db, current).await?));
                        };
                        let written = store::subscription::save(db, &current, now).await?;
                        let display_name =
                            offer.map(|offer| offer.display_name).unwrap_or_default();
                        let changed = convert::subscription(&written, &display_name);
                        tx.append(Event::new(
                            "subscription",
                            &changed.name,
                            &written.provider_id,
                            &pb::LicenseQuantityChanged {
                                subscription: Some(changed.clone()),
                                previous_quantity,
                            },
                        ))
                        .await?;
                        Ok(Reply::new(changed))
                    })
                    .await
            })
            .await
    }

    /// R18: names (or clears) the reseller of record; a PartnerID must pass
    /// R3 on the partnership service.
    pub(super) async fn change_reseller_of_record_call(
        &self,
        request: Request<pb::ChangeResellerOfRecordRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let (customer, subscription_id) = customer_and_id(&request.name)?;
        let partner_id = optional_partner_id(&request.reseller_partner_id, "reseller_partner_id")?;
        require_own_customer(&caller, &customer)?;
        let expected = convert::expected_version(&request.etag);
        self.outbox
            .audited(&request.name, "", async {
                let has = |current: &Subscription| {
                    current.has_reseller_of_record(partner_id.as_deref(), expected)
                };
                let named = (customer.as_str(), subscription_id.as_str());
                if let Some(unchanged) = self.answered_unchanged(&request.name, named, has).await? {
                    return Ok(unchanged);
                }
                let customer_company_name = self.customer_company_name(&caller, &customer).await?;
                let reseller = match &partner_id {
                    Some(partner_id) => {
                        self.upstream
                            .verify_reseller(&caller, partner_id, "reseller_partner_id")
                            .await?;
                        Some(self.reseller_contact(partner_id).await?)
                    }
                    None => None,
                };
                self.name_reseller(
                    &request.name,
                    (&customer, &subscription_id),
                    |current| current.change_reseller_of_record(partner_id, expected),
                    |subscription, previous_partner_id| pb::ResellerOfRecordChanged {
                        subscription: Some(subscription),
                        customer_company_name,
                        reseller,
                        previous_partner_id,
                    },
                )
                .await
            })
            .await
    }

    /// R19: designates (or clears) the support contact, a reseller that
    /// passes R3 (R24) with an active partnership with the provider.
    pub(super) async fn set_support_contact_call(
        &self,
        request: Request<pb::SetSupportContactRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let (customer, subscription_id) = customer_and_id(&request.name)?;
        let partner_id = optional_partner_id(
            &request.support_contact_partner_id,
            "support_contact_partner_id",
        )?;
        let provider_id = names::parse::<2>(&customer, &CUSTOMER)
            .map(|[provider, _]| provider.to_owned())
            .unwrap_or_default();
        require_own_customer(&caller, &customer)?;
        let expected = convert::expected_version(&request.etag);
        self.outbox
            .audited(&request.name, "", async {
                let has = |current: &Subscription| {
                    current.has_support_contact(partner_id.as_deref(), expected)
                };
                let named = (customer.as_str(), subscription_id.as_str());
                if let Some(unchanged) = self.answered_unchanged(&request.name, named, has).await? {
                    return Ok(unchanged);
                }
                let customer_company_name = self.customer_company_name(&caller, &customer).await?;
                let (contact, reseller) = match &partner_id {
                    Some(partner_id) => {
                        self.upstream
                            .verify_reseller(&caller, partner_id, "support_contact_partner_id")
                            .await?;
                        let active = self
                            .directory
                            .is_active_partner(&provider_id, partner_id)
                            .await?;
                        let contact = SupportContact::designate(partner_id, active)?;
                        (
                            Some(contact),
                            Some(self.reseller_contact(partner_id).await?),
                        )
                    }
                    None => (None, None),
                };
                self.name_reseller(
                    &request.name,
                    (&customer, &subscription_id),
                    |current| current.set_support_contact(contact, expected),
                    |subscription, previous_partner_id| pb::SupportContactChanged {
                        subscription: Some(subscription),
                        customer_company_name,
                        reseller,
                        previous_partner_id,
                    },
                )
                .await
            })
            .await
    }

    /// R25 before R24: a change naming the reseller a subscription has in
    /// a role already (`has` tells, refusing a stale etag, and a change the
    /// subscription's state forbids, R26) is answered as it is, without the
    /// reseller being judged (it may no longer pass R3, or no longer be a
    /// partner: R7 and R24 leave it where it is), in a unit of work of its
    /// own, so the call is in the audit trail (R29). `None` when it would
    /// change something, now or after a change made meanwhile: the caller
    /// then judges the reseller.
    async fn answered_unchanged(
        &self,
        name: &str,
        (customer, subscription_id): (&str, &str),
        has: impl Fn(&Subscription) -> Result<bool, SubscriptionError>,
    ) -> Result<Option<pb::Subscription>, Error> {
        if !has(&self.current(customer, subscription_id).await?)? {
            return Ok(None);
        }
        let answered = self
            .outbox
            .command(name, None, async |tx| -> Result<_, Contested<()>> {
                let db = &**tx;
                let current = self.subscription(db, customer, subscription_id).await?;
                if !has(&current)? {
                    return Err(Contested::Lost(()));
                }
                Ok(Reply::new(described_one(db, current).await?))
            })
            .await;
        match answered {
            Ok(unchanged) => Ok(Some(unchanged)),
            Err(Contested::Lost(())) => Ok(None),
            Err(Contested::Failed(error)) => Err(error),
        }
    }

    /// Names (or clears) a reseller in one of a subscription's roles
    /// (R18, R19): `assign` decides on the subscription as read in the
    /// unit of work, answering the PartnerID it replaced; the change is
    /// saved and logged as `changed` tells it. Naming the reseller it has
    /// already writes nothing (R25).
    async fn name_reseller<M: prost::Name>(
        &self,
        name: &str,
        (customer, subscription_id): (&str, &str),
        assign: impl FnOnce(&mut Subscription) -> Result<Change<Option<String>>, SubscriptionError>,
        changed: impl FnOnce(pb::Subscription, String) -> M,
    ) -> Result<pb::Subscription, Error> {
        self.outbox
            .command(name, None, async |tx| {
                let db = &**tx;
                let mut current = self.subscription(db, customer, subscription_id).await?;
                let Some(previous) = assign(&mut current)?.changed() else {
                    return Ok(Reply::new(described_one(db, current).await?));
                };
                let written = store::subscription::save(db, &current, Utc::now()).await?;
                let provider_id = written.provider_id.clone();
                let subscription = described_one(db, written).await?;
                let event = changed(subscription.clone(), previous.unwrap_or_default());
                tx.append(Event::new(
                    "subscription",
                    &subscription.name,
                    provider_id,
                    &event,
                ))
                .await?;
                Ok(Reply::new(subscription))
            })
            .await
    }
}
