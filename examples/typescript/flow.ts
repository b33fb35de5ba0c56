// A backend written in TypeScript driving twotier over gRPC: onboarding ->
// partnership -> customer -> purchase, with the client `buf generate`
// produced from ../../proto (protoc-gen-es service descriptors, called
// through Connect-ES's gRPC transport).
//
//   npm ci && npm run generate && TWOTIER_DATA_DIR=../../data npm run flow
//
// Every endpoint comes from the environment, with the variables the services
// themselves use (defaults: the ports of `twotier run` on 127.0.0.1).
// Tokens are HS256 JWTs signed with the development secret `twotier run`
// keeps under its data directory (or TWOTIER_JWT_HS256_SECRET); in
// production your identity provider issues them.

import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { CustomerService } from "./gen/twotier/customer/v1/customer_service_pb.js";
import { PartnershipState } from "./gen/twotier/partnership/v1/partnership_pb.js";
import { PartnershipService } from "./gen/twotier/partnership/v1/partnership_service_pb.js";
import { AccountKind, ResellerService } from "./gen/twotier/partnership/v1/reseller_pb.js";
import { BillingCycle, Term } from "./gen/twotier/subscription/v1/offer_pb.js";
import { SubscriptionService } from "./gen/twotier/subscription/v1/subscription_service_pb.js";

const endpoint = (service: string, port: number): string =>
  process.env[`TWOTIER_${service.toUpperCase()}_ENDPOINT`] ?? `http://127.0.0.1:${port}`;

const run = randomBytes(4).toString("hex");
const provider = `tailwind-${run}`;
const resellerTenant = `proseware-${run}`;
const partnerId = String(8_000_000 + (parseInt(run, 16) % 1_000_000));

function secret(): string {
  const configured = process.env.TWOTIER_JWT_HS256_SECRET;
  if (configured) return configured;
  const dataDir = process.env.TWOTIER_DATA_DIR ?? "data";
  return readFileSync(join(dataDir, "dev-jwt-secret"), "utf8").trim();
}

/** Call options carrying a development token of `tenant` with `roles`. */
function as(tenant: string, ...roles: string[]): { headers: Record<string, string> } {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({
    sub: `typescript@${tenant}.example`,
    tid: tenant,
    roles,
    iss: "twotier",
    aud: "twotier",
    iat: now,
    exp: now + 600,
    email: `typescript@${tenant}.example`,
  })}`;
  const signature = createHmac("sha256", secret()).update(unsigned).digest("base64url");
  return { headers: { authorization: `Bearer ${unsigned}.${signature}` } };
}

/** The `google.rpc.ErrorInfo.reason` of a refused call (field 1 of the detail). */
function reasonOf(error: ConnectError): string | undefined {
  for (const detail of error.details) {
    if ("type" in detail && detail.type === "google.rpc.ErrorInfo") {
      const reader = new BinaryReader(detail.value);
      while (reader.pos < reader.len) {
        const [field, wireType] = reader.tag();
        if (field === 1) return reader.string();
        reader.skip(wireType);
      }
    }
  }
  return undefined;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

async function main(): Promise<void> {
  const partnershipTransport = createGrpcTransport({ baseUrl: endpoint("partnership", 50051) });
  const resellers = createClient(ResellerService, partnershipTransport);
  const partnerships = createClient(PartnershipService, partnershipTransport);
  const customers = createClient(CustomerService, createGrpcTransport({ baseUrl: endpoint("customer", 50052) }));
  const subscriptions = createClient(
    SubscriptionService,
    createGrpcTransport({ baseUrl: endpoint("subscription", 50053) }),
  );
  const operator = as("twotier", "PlatformOperator");
  const providerAdmin = as(provider, "GlobalAdmin");
  const resellerAdmin = as(resellerTenant, "ResellerAdmin");

  // Onboarding (platform operator) and PartnerID verification.
  await resellers.onboardReseller(
    {
      requestId: `ts-onboard-${run}`,
      reseller: {
        partnerId,
        tenantId: resellerTenant,
        companyName: "Proseware Inc.",
        contactEmail: `admin@${resellerTenant}.example`,
        countryCode: "US",
        preferredLanguage: "en",
        accountKind: AccountKind.LOCATION,
        mpaActive: true,
      },
    },
    operator,
  );
  const verified = await resellers.verifyPartnerId({ partnerId }, providerAdmin);
  console.log(`verified ${verified.partnerId}: ${verified.companyName}`);

  // Partnership by invitation.
  const invitation = await partnerships.requestPartnership(
    { parent: `providers/${provider}`, resellerEmail: `admin@${resellerTenant}.example` },
    providerAdmin,
  );
  const token = new URL(invitation.invitationLink).searchParams.get("token") ?? "";
  const partnership = await partnerships.acceptInvitation({ token }, resellerAdmin);
  check(partnership.state === PartnershipState.ACTIVE, "an active partnership");
  console.log(`partnership ${partnership.name} is active`);

  // A customer for the reseller, and the customer agreement.
  const created = await customers.createCustomer(
    {
      parent: `providers/${provider}`,
      requestId: `ts-customer-${run}`,
      customer: {
        companyName: "Lucerne Publishing",
        domainPrefix: `lucerne${run}`,
        languageCode: "en",
        indirectResellerPartnerId: partnerId,
        address: { addressLine1: "1 Main St", city: "Seattle", postalCode: "98101", countryCode: "US" },
        primaryContact: { firstName: "Lena", lastName: "Park", email: "lena@lucerne.example" },
      },
    },
    providerAdmin,
  );
  const customer = created.customer?.name ?? "";
  console.log(`customer ${customer}; admin ${created.adminCredentials?.userName} (password shown once)`);
  await customers.recordCustomerAgreement(
    {
      parent: customer,
      customerAgreement: {
        signatoryFirstName: "Lena",
        signatoryLastName: "Park",
        signatoryEmail: "lena@lucerne.example",
        dateAgreed: new Date().toISOString().slice(0, 10),
      },
    },
    providerAdmin,
  );

  // A purchase with the reseller of record.
  const cart = await subscriptions.createCart({ parent: `providers/${provider}`, cart: { customer } }, providerAdmin);
  await subscriptions.addLineItem(
    {
      cart: cart.name,
      lineItem: {
        offer: "offers/m365-business-standard",
        quantity: 15,
        term: Term.ANNUAL,
        billingCycle: BillingCycle.MONTHLY,
        resellerPartnerId: partnerId,
      },
    },
    providerAdmin,
  );
  await subscriptions.attestIndirectProvider({ cart: cart.name, actsAsIndirectProvider: true }, providerAdmin);
  const order = await subscriptions.checkoutCart({ cart: cart.name, requestId: `ts-order-${run}` }, providerAdmin);
  const listed = await subscriptions.listSubscriptions({ parent: customer }, providerAdmin);
  check(
    JSON.stringify(listed.subscriptions.map((s) => s.name)) === JSON.stringify(order.lines.map((l) => l.subscription)),
    "the order's subscriptions are listed",
  );
  console.log(`order ${order.name}: ${order.lines.length} subscription(s)`);

  // Errors are rich: a refused call carries its reason in ErrorInfo.
  try {
    await resellers.verifyPartnerId({ partnerId: "12ab" }, providerAdmin);
    throw new Error("a malformed PartnerID must be refused");
  } catch (caught) {
    const error = ConnectError.from(caught);
    check(error.code === Code.InvalidArgument, `INVALID_ARGUMENT, got ${Code[error.code]}`);
    const reason = reasonOf(error);
    check(reason === "PARTNER_ID_MALFORMED", `reason PARTNER_ID_MALFORMED, got ${reason}`);
    console.log(`malformed PartnerID refused: ${Code[error.code]}, reason ${reason}: ${error.rawMessage}`);
  }
  console.log("typescript flow: ok");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
