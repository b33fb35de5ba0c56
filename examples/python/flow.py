"""A backend written in Python driving twotier over gRPC: onboarding ->
partnership -> customer -> purchase, with the stubs generate.sh produced.

Run against a running system (`cargo run -p twotier -- run`):

    pip install -r requirements.txt && ./generate.sh && python flow.py

Every endpoint comes from the environment, with the variables the services
themselves use (defaults: the ports of `twotier run` on 127.0.0.1):
TWOTIER_PARTNERSHIP_ENDPOINT, TWOTIER_CUSTOMER_ENDPOINT,
TWOTIER_SUBSCRIPTION_ENDPOINT, e.g. `https://partnership.twotier:50051`
(verified with TWOTIER_TLS_CA_FILE when set).

Tokens are HS256 JWTs signed with the development secret that `twotier run`
keeps under its data directory (or TWOTIER_JWT_HS256_SECRET when set).
"""

import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import grpc
import jwt
from google.rpc import error_details_pb2
from grpc_status import rpc_status

sys.path.insert(0, str(Path(__file__).parent / "gen"))

from twotier.customer.v1 import customer_pb2, customer_service_pb2, customer_service_pb2_grpc  # noqa: E402
from twotier.partnership.v1 import (  # noqa: E402
    partnership_pb2,
    partnership_service_pb2,
    partnership_service_pb2_grpc,
    reseller_pb2,
    reseller_pb2_grpc,
)
from twotier.subscription.v1 import (  # noqa: E402
    cart_pb2,
    offer_pb2,
    subscription_service_pb2,
    subscription_service_pb2_grpc,
)

ENDPOINTS = {
    "partnership": os.environ.get("TWOTIER_PARTNERSHIP_ENDPOINT", "http://127.0.0.1:50051"),
    "customer": os.environ.get("TWOTIER_CUSTOMER_ENDPOINT", "http://127.0.0.1:50052"),
    "subscription": os.environ.get("TWOTIER_SUBSCRIPTION_ENDPOINT", "http://127.0.0.1:50053"),
}
RUN = uuid.uuid4().hex[:8]
PROVIDER = f"wingtip-{RUN}"
RESELLER_TENANT = f"litware-{RUN}"
PARTNER_ID = str(7_000_000 + int(RUN, 16) % 2_000_000)


def secret() -> str:
    configured = os.environ.get("TWOTIER_JWT_HS256_SECRET")
    if configured:
        return configured
    data_dir = Path(os.environ.get("TWOTIER_DATA_DIR", "data"))
    return (data_dir / "dev-jwt-secret").read_text().strip()


def token(tenant: str, *roles: str) -> list:
    now = int(time.time())
    claims = {
        "sub": f"python@{tenant}.example",
        "tid": tenant,
        "roles": list(roles),
        "iss": "twotier",
        "aud": "twotier",
        "iat": now,
        "exp": now + 600,
        "email": f"python@{tenant}.example",
    }
    return [("authorization", "Bearer " + jwt.encode(claims, secret(), algorithm="HS256"))]


def channel(service: str) -> grpc.Channel:
    """A channel to `service` at its configured endpoint: plaintext for
    http://, TLS for https:// (trusting TWOTIER_TLS_CA_FILE, else the system roots)."""
    endpoint = ENDPOINTS[service]
    scheme, _, target = endpoint.partition("://")
    if scheme == "http":
        return grpc.insecure_channel(target)
    if scheme == "https":
        ca_file = os.environ.get("TWOTIER_TLS_CA_FILE")
        ca = Path(ca_file).read_bytes() if ca_file else None
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca))
    raise SystemExit(f"{service} endpoint {endpoint} must start with http:// or https://")


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    """The google.rpc.ErrorInfo a refused call carries: the stable reason to
    branch on (the message is for people)."""
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise SystemExit(f"refused without ErrorInfo: {error}")


def main() -> None:
    operator = token("twotier", "PlatformOperator")
    provider = token(PROVIDER, "GlobalAdmin")
    reseller = token(RESELLER_TENANT, "ResellerAdmin")

    resellers = reseller_pb2_grpc.ResellerServiceStub(channel("partnership"))
    partnerships = partnership_service_pb2_grpc.PartnershipServiceStub(channel("partnership"))
    customers = customer_service_pb2_grpc.CustomerServiceStub(channel("customer"))
    subscriptions = subscription_service_pb2_grpc.SubscriptionServiceStub(channel("subscription"))

    # Onboarding (platform operator) and PartnerID verification.
    resellers.OnboardReseller(
        reseller_pb2.OnboardResellerRequest(
            request_id=f"py-onboard-{RUN}",
            reseller=reseller_pb2.Reseller(
                partner_id=PARTNER_ID,
                tenant_id=RESELLER_TENANT,
                company_name="Litware Inc.",
                contact_email=f"admin@{RESELLER_TENANT}.example",
                country_code="US",
                preferred_language="en",
                account_kind=reseller_pb2.ACCOUNT_KIND_LOCATION,
                mpa_active=True,
            ),
        ),
        metadata=operator,
    )
    verified = resellers.VerifyPartnerId(reseller_pb2.VerifyPartnerIdRequest(partner_id=PARTNER_ID), metadata=provider)
    print(f"verified {verified.partner_id}: {verified.company_name}")

    # Partnership by invitation.
    invitation = partnerships.RequestPartnership(
        partnership_service_pb2.RequestPartnershipRequest(
            parent=f"providers/{PROVIDER}", reseller_email=f"admin@{RESELLER_TENANT}.example"
        ),
        metadata=provider,
    )
    link_token = invitation.invitation_link.split("token=")[1]
    partnership = partnerships.AcceptInvitation(
        partnership_service_pb2.AcceptInvitationRequest(token=link_token), metadata=reseller
    )
    assert partnership.state == partnership_pb2.PARTNERSHIP_STATE_ACTIVE
    print(f"partnership {partnership.name} is active")

    # A customer for the reseller, and the customer agreement.
    created = customers.CreateCustomer(
        customer_service_pb2.CreateCustomerRequest(
            parent=f"providers/{PROVIDER}",
            request_id=f"py-customer-{RUN}",
            customer=customer_pb2.Customer(
                company_name="Trey Research",
                domain_prefix=f"trey{RUN}",
                language_code="en",
                indirect_reseller_partner_id=PARTNER_ID,
                address=customer_pb2.Address(
                    address_line1="1 Main St", city="Seattle", postal_code="98101", country_code="US"
                ),
                primary_contact=customer_pb2.Contact(first_name="Terry", last_name="Adams", email="terry@trey.example"),
            ),
        ),
        metadata=provider,
    )
    customer = created.customer.name
    print(f"customer {customer}; admin {created.admin_credentials.user_name} (password shown once)")
    customers.RecordCustomerAgreement(
        customer_service_pb2.RecordCustomerAgreementRequest(
            parent=customer,
            customer_agreement=customer_pb2.CustomerAgreement(
                signatory_first_name="Terry",
                signatory_last_name="Adams",
                signatory_email="terry@trey.example",
                date_agreed=date.today().isoformat(),
            ),
        ),
        metadata=provider,
    )

    # A purchase with the reseller of record.
    cart = subscriptions.CreateCart(
        subscription_service_pb2.CreateCartRequest(parent=f"providers/{PROVIDER}", cart=cart_pb2.Cart(customer=customer)),
        metadata=provider,
    )
    subscriptions.AddLineItem(
        subscription_service_pb2.AddLineItemRequest(
            cart=cart.name,
            line_item=cart_pb2.LineItem(
                offer="offers/m365-business-standard",
                quantity=15,
                term=offer_pb2.TERM_ANNUAL,
                billing_cycle=offer_pb2.BILLING_CYCLE_MONTHLY,
                reseller_partner_id=PARTNER_ID,
            ),
        ),
        metadata=provider,
    )
    subscriptions.AttestIndirectProvider(
        subscription_service_pb2.AttestIndirectProviderRequest(cart=cart.name, acts_as_indirect_provider=True),
        metadata=provider,
    )
    review = subscriptions.ReviewCart(subscription_service_pb2.ReviewCartRequest(cart=cart.name), metadata=provider)
    print(f"review: {review.lines[0].offer_display_name} x{review.lines[0].line_item.quantity}, "
          f"reseller {review.lines[0].reseller_company_name}")
    order = subscriptions.CheckoutCart(
        subscription_service_pb2.CheckoutCartRequest(cart=cart.name, request_id=f"py-order-{RUN}"), metadata=provider
    )
    listed = subscriptions.ListSubscriptions(
        subscription_service_pb2.ListSubscriptionsRequest(parent=customer), metadata=provider
    )
    assert [s.name for s in listed.subscriptions] == [line.subscription for line in order.lines]
    print(f"order {order.name}: {len(order.lines)} subscription(s)")

    # Errors are rich: a bad PartnerID names its reason.
    try:
        resellers.VerifyPartnerId(reseller_pb2.VerifyPartnerIdRequest(partner_id="12ab"), metadata=provider)
        raise SystemExit("a malformed PartnerID must be refused")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        info = error_info(error)
        assert info.reason == "PARTNER_ID_MALFORMED", info
        print(f"malformed PartnerID refused: {error.code().name}, reason {info.reason} "
              f"(domain {info.domain}): {error.details()}")
    print("python flow: ok")


if __name__ == "__main__":
    main()
