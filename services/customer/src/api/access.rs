//! Who may call each RPC of the customer service (enforced before the call
//! reaches a handler; handlers decide which tenant's rows it touches).

use twotier_platform::auth::Access::AnyOf;
use twotier_platform::auth::{PROVIDER, Role, Rule};

const CUSTOMERS: &str = "twotier.customer.v1.CustomerService";

/// Providers read their customers, resellers the customers delegated to them.
const PROVIDER_OR_RESELLER: &[Role] = &[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin];

/// The rules of `CustomerService`.
pub const CUSTOMER_RULES: &[Rule] = &[
    Rule::new(CUSTOMERS, "CreateCustomer", AnyOf(PROVIDER)),
    Rule::new(CUSTOMERS, "GetCustomer", AnyOf(PROVIDER_OR_RESELLER)),
    Rule::new(CUSTOMERS, "ListCustomers", AnyOf(PROVIDER)),
    Rule::new(
        CUSTOMERS,
        "ListResellerCustomers",
        AnyOf(&[Role::ResellerAdmin]),
    ),
    Rule::new(CUSTOMERS, "CheckDomainPrefix", AnyOf(PROVIDER)),
    Rule::new(
        CUSTOMERS,
        "ListDelegatedAdminRelationships",
        AnyOf(PROVIDER_OR_RESELLER),
    ),
    Rule::new(CUSTOMERS, "RecordCustomerAgreement", AnyOf(PROVIDER)),
    Rule::new(
        CUSTOMERS,
        "GetCustomerAgreement",
        AnyOf(PROVIDER_OR_RESELLER),
    ),
    Rule::new(CUSTOMERS, "RequestResellerRelationship", AnyOf(PROVIDER)),
    Rule::new(CUSTOMERS, "SendResellerRelationshipEmail", AnyOf(PROVIDER)),
    Rule::new(CUSTOMERS, "GetResellerRelationshipRequest", AnyOf(PROVIDER)),
    Rule::new(
        CUSTOMERS,
        "ListResellerRelationshipRequests",
        AnyOf(PROVIDER),
    ),
    Rule::new(
        CUSTOMERS,
        "RevokeResellerRelationshipRequest",
        AnyOf(PROVIDER),
    ),
    // R22: the customer's admin consents; which customer is decided by its
    // tenant (the customer's initial domain) in the handler.
    Rule::new(
        CUSTOMERS,
        "AcceptResellerRelationship",
        AnyOf(&[Role::CustomerAdmin]),
    ),
    Rule::new(CUSTOMERS, "EndDelegatedAdminRelationship", AnyOf(PROVIDER)),
];
