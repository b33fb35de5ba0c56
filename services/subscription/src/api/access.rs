//! Who may call each RPC of the subscription service (enforced before the
//! call reaches a handler; handlers decide which tenant's rows it touches).

use twotier_platform::auth::Access::AnyOf;
use twotier_platform::auth::{PROVIDER, Role, Rule};

const SUBSCRIPTIONS: &str = "twotier.subscription.v1.SubscriptionService";

/// The catalog is for providers and the platform operator.
const CATALOG: &[Role] = &[Role::GlobalAdmin, Role::SalesAgent, Role::PlatformOperator];
/// Resellers read the subscriptions of customers delegated to them.
const PROVIDER_OR_RESELLER: &[Role] = &[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin];

/// The rules of `SubscriptionService`.
pub const SUBSCRIPTION_RULES: &[Rule] = &[
    Rule::new(SUBSCRIPTIONS, "ListOffers", AnyOf(CATALOG)),
    Rule::new(SUBSCRIPTIONS, "GetOffer", AnyOf(CATALOG)),
    Rule::new(SUBSCRIPTIONS, "CreateCart", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "GetCart", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "AddLineItem", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "UpdateLineItem", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "RemoveLineItem", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "AttestIndirectProvider", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "ReviewCart", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "CheckoutCart", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "CancelCart", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "GetOrder", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "ListOrders", AnyOf(PROVIDER)),
    Rule::new(
        SUBSCRIPTIONS,
        "ListSubscriptions",
        AnyOf(PROVIDER_OR_RESELLER),
    ),
    Rule::new(
        SUBSCRIPTIONS,
        "GetSubscription",
        AnyOf(PROVIDER_OR_RESELLER),
    ),
    Rule::new(SUBSCRIPTIONS, "ChangeLicenseQuantity", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "ChangeResellerOfRecord", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "SetSupportContact", AnyOf(PROVIDER)),
    // R26-R28: the subscription's lifecycle is the provider's.
    Rule::new(SUBSCRIPTIONS, "SuspendSubscription", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "ReactivateSubscription", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "CancelSubscription", AnyOf(PROVIDER)),
    Rule::new(SUBSCRIPTIONS, "SetAutoRenew", AnyOf(PROVIDER)),
];
