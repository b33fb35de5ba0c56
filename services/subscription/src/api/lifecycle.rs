//! A subscription's lifecycle (R26-R28): suspend, reactivate, cancel within
//! the cancellation window, auto-renew on and off. Each change is logged
//! with the reseller of record to tell (R28); asking for what is so
//! already writes nothing (R25).

use chrono::{DateTime, Utc};
use tonic::Request;
use twotier_outbox::{Event, Reply};
use twotier_platform::Error;
use twotier_platform::auth::Caller;
use twotier_proto::subscription as pb;

use super::subscription::{customer_and_id, described_one, require_own_customer};
use super::{Api, caller, convert};
use crate::domain::{Subscription, SubscriptionError};
use crate::store;

/// One lifecycle command.
#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Suspend,
    Reactivate,
    Cancel,
    AutoRenew(bool),
}

impl Lifecycle {
    /// Lets `subscription` decide at `now`: whether it changed.
    fn decide(
        self,
        subscription: &mut Subscription,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<bool, SubscriptionError> {
        Ok(match self {
            Self::Suspend => subscription.suspend(expected)?.is_changed(),
            Self::Reactivate => subscription.reactivate(expected)?.is_changed(),
            Self::Cancel => subscription.cancel(expected, now)?.is_changed(),
            Self::AutoRenew(on) => subscription.set_auto_renew(on, expected)?.is_changed(),
        })
    }

    /// The event telling of the change to `changed` of `provider_id`.
    fn event(
        self,
        provider_id: &str,
        changed: &pb::Subscription,
        customer_company_name: String,
        reseller_of_record: Option<pb::ResellerContact>,
        previous_state: pb::SubscriptionState,
    ) -> Event {
        let subscription = Some(changed.clone());
        let (kind, name) = ("subscription", &changed.name);
        match self {
            Self::Suspend => Event::new(
                kind,
                name,
                provider_id,
                &pb::SubscriptionSuspended {
                    subscription,
                    customer_company_name,
                    reseller_of_record,
                },
            ),
            Self::Reactivate => Event::new(
                kind,
                name,
                provider_id,
                &pb::SubscriptionReactivated {
                    subscription,
                    customer_company_name,
                    reseller_of_record,
                },
            ),
            Self::Cancel => Event::new(
                kind,
                name,
                provider_id,
                &pb::SubscriptionCancelled {
                    subscription,
                    customer_company_name,
                    reseller_of_record,
                    previous_state: previous_state.into(),
                },
            ),
            Self::AutoRenew(_) => Event::new(
                kind,
                name,
                provider_id,
                &pb::AutoRenewChanged {
                    subscription,
                    customer_company_name,
                    reseller_of_record,
                },
            ),
        }
    }
}

impl Api {
    /// R26: suspends a subscription.
    pub(super) async fn suspend_call(
        &self,
        request: Request<pb::SuspendSubscriptionRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        self.lifecycle(&caller, &request.name, &request.etag, Lifecycle::Suspend)
            .await
    }

    /// R26: reactivates a suspended subscription.
    pub(super) async fn reactivate_call(
        &self,
        request: Request<pb::ReactivateSubscriptionRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        self.lifecycle(&caller, &request.name, &request.etag, Lifecycle::Reactivate)
            .await
    }

    /// R27: cancels a subscription within its window.
    pub(super) async fn cancel_call(
        &self,
        request: Request<pb::CancelSubscriptionRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        self.lifecycle(&caller, &request.name, &request.etag, Lifecycle::Cancel)
            .await
    }

    /// R28: auto-renew on or off.
    pub(super) async fn set_auto_renew_call(
        &self,
        request: Request<pb::SetAutoRenewRequest>,
    ) -> Result<pb::Subscription, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let command = Lifecycle::AutoRenew(request.auto_renew);
        self.lifecycle(&caller, &request.name, &request.etag, command)
            .await
    }

    /// Runs `command` on the subscription `name` with the caller's `etag`
    /// (optional): one command, saved under the version it was read at,
    /// with its event; nothing at all when nothing changes.
    async fn lifecycle(
        &self,
        caller: &Caller,
        name: &str,
        etag: &str,
        command: Lifecycle,
    ) -> Result<pb::Subscription, Error> {
        let (customer, subscription_id) = customer_and_id(name)?;
        require_own_customer(caller, &customer)?;
        self.outbox
            .audited(name, "", async {
                let customer_company_name = self.customer_company_name(caller, &customer).await?;
                let expected = convert::expected_version(etag);
                self.outbox
                    .command(name, None, async |tx| {
                        let db = &**tx;
                        let mut current =
                            self.subscription(db, &customer, &subscription_id).await?;
                        let before = convert::subscription_state(current.state);
                        let now = Utc::now();
                        if !command.decide(&mut current, expected, now)? {
                            return Ok(Reply::new(described_one(db, current).await?));
                        }
                        let written = store::subscription::save(db, &current, now).await?;
                        // The reseller of record passed R3 when it was named, so the
                        // projection knows it; a reseller it lost is told nothing.
                        let reseller_of_record = match &written.reseller_of_record {
                            Some(partner_id) => self
                                .directory
                                .reseller(db, partner_id)
                                .await?
                                .map(convert::reseller_contact),
                            None => None,
                        };
                        let provider_id = written.provider_id.clone();
                        let changed = described_one(db, written).await?;
                        tx.append(command.event(
                            &provider_id,
                            &changed,
                            customer_company_name,
                            reseller_of_record,
                            before,
                        ))
                        .await?;
                        Ok(Reply::new(changed))
                    })
                    .await
            })
            .await
    }
}
