//! TLS on the listeners and between services, with certificates each test
//! makes: a TLS server serves only clients that trust its CA, a server
//! requiring client certificates refuses clients without a valid one, TLS
//! connections are tracked like plaintext ones, and a service follows
//! another's event log and reads it fresh over mutual TLS.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_platform::tls::ClientTls;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::partnership::ListProviderListingsRequest;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_testkit::pki::{CertFiles, IssuedCert, TestCa};
use twotier_testkit::{Bearer, ChaosProxy, RunningServer, TestDatabase};

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as
/// files.
struct Pki {
    ca: TestCa,
    ca_file: PathBuf,
    server: CertFiles,
    client: IssuedCert,
    client_files: CertFiles,
    _dir: tempfile::TempDir,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("certificate directory");
    let ca = TestCa::new("twotier test CA");
    let ca_file = ca.write(dir.path(), "ca");
    let server = ca
        .issue(&["127.0.0.1", "localhost"])
        .write(dir.path(), "server");
    let client = ca.issue(&["customer.twotier.internal"]);
    let client_files = client.write(dir.path(), "client");
    Pki {
        ca,
        ca_file,
        server,
        client,
        client_files,
        _dir: dir,
    }
}

fn path(path: &std::path::Path) -> String {
    path.display().to_string()
}

fn https(server: &RunningServer) -> String {
    format!("https://{}", server.addr)
}

fn channel(tls: ClientTls, endpoint: &str) -> Channel {
    ClientChannels::with_tls(tls)
        .connect_lazy(endpoint, ChannelOptions::default())
        .expect("channel")
}

async fn list_listings(channel: Channel) -> Result<(), tonic::Status> {
    let token = twotier_testkit::token("admin", "contoso", &[Role::GlobalAdmin]);
    ProviderListingServiceClient::with_interceptor(channel, Bearer::new(&token))
        .list_provider_listings(ListProviderListingsRequest::default())
        .await
        .map(|_| ())
}

/// The partnership service serving TLS with `pki`'s server certificate,
/// requiring client certificates when `mutual`.
async fn tls_partnership(
    db: &TestDatabase,
    pki: &Pki,
    mutual: bool,
    extra: &[(&str, &str)],
) -> RunningServer {
    let cert = path(&pki.server.cert);
    let key = path(&pki.server.key);
    let ca = path(&pki.ca_file);
    let mut env = vec![
        ("TWOTIER_TLS_CERT_FILE", cert.as_str()),
        ("TWOTIER_TLS_KEY_FILE", key.as_str()),
    ];
    if mutual {
        env.push(("TWOTIER_TLS_CLIENT_CA_FILE", ca.as_str()));
    }
    env.extend_from_slice(extra);
    twotier_testkit::start_service::<PartnershipService>(db, &env).await
}

#[tokio::test]
async fn tls_server_serves_a_client_that_trusts_its_ca() {
    let pki = pki();
    let db = TestDatabase::new("partnership").await;
    let server = tls_partnership(&db, &pki, false, &[]).await;
    let trusted = channel(ClientTls::none().with_ca(pki.ca.pem()), &https(&server));
    list_listings(trusted.clone())
        .await
        .expect("served over TLS");
    let health = tonic_health::pb::health_client::HealthClient::new(trusted)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health over TLS")
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn plaintext_client_cannot_call_a_tls_server() {
    let pki = pki();
    let db = TestDatabase::new("partnership").await;
    let server = tls_partnership(&db, &pki, false, &[]).await;
    let status = list_listings(server.channel())
        .await
        .expect_err("plaintext is not spoken");
    assert_ne!(status.code(), tonic::Code::Ok);
}

#[tokio::test]
async fn client_that_trusts_another_ca_refuses_the_server() {
    let pki = pki();
    let db = TestDatabase::new("partnership").await;
    let server = tls_partnership(&db, &pki, false, &[]).await;
    let stranger = TestCa::new("another CA");
    let status = list_listings(channel(
        ClientTls::none().with_ca(stranger.pem()),
        &https(&server),
    ))
    .await
    .expect_err("the server's certificate is not trusted");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
}

#[tokio::test]
async fn mutual_tls_server_refuses_a_client_without_a_certificate() {
    let pki = pki();
    let db = TestDatabase::new("partnership").await;
    let server = tls_partnership(&db, &pki, true, &[]).await;
    let anonymous = ClientTls::none().with_ca(pki.ca.pem());
    list_listings(channel(anonymous, &https(&server)))
        .await
        .expect_err("a client without a certificate is refused");

    let certified = ClientTls::none()
        .with_ca(pki.ca.pem())
        .with_identity(&pki.client.cert_pem, &pki.client.key_pem);
    list_listings(channel(certified, &https(&server)))
        .await
        .expect("a client with a certificate from the CA is served");
}

#[tokio::test]
async fn mutual_tls_server_refuses_a_certificate_from_another_ca() {
    let pki = pki();
    let db = TestDatabase::new("partnership").await;
    let server = tls_partnership(&db, &pki, true, &[]).await;
    let forged = TestCa::new("another CA").issue(&["customer.twotier.internal"]);
    let impostor = ClientTls::none()
        .with_ca(pki.ca.pem())
        .with_identity(&forged.cert_pem, &forged.key_pem);
    list_listings(channel(impostor, &https(&server)))
        .await
        .expect_err("a certificate from another CA is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connection_in_use_outlives_the_handshake_timeout() {
    const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(300);
    let pki = pki();
    let db = TestDatabase::new("partnership").await;
    let server = tls_partnership(&db, &pki, false, &[("TWOTIER_HANDSHAKE_TIMEOUT", "300ms")]).await;
    let counted = ChaosProxy::start(server.addr).await;
    let trusted = channel(
        ClientTls::none().with_ca(pki.ca.pem()),
        &format!("https://127.0.0.1:{}", counted.addr.port()),
    );
    // Calls on the TLS connection count as its use (the connection info is
    // wrapped in TLS's), so it is not closed as one that never called.
    let started = Instant::now();
    while started.elapsed() < HANDSHAKE_TIMEOUT * 4 {
        list_listings(trusted.clone())
            .await
            .expect("served over TLS");
    }
    assert_eq!(counted.accepted(), 1, "one TLS connection throughout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_follows_partnership_log_over_mutual_tls() {
    const PROVIDER: &str = "contoso";
    const RESELLER_TENANT: &str = "fabrikam";
    const RESELLER: &str = "4567890";
    let pki = pki();
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership = tls_partnership(&partnership_db, &pki, true, &[]).await;

    let customer_db = TestDatabase::new("customer").await;
    let partnership_endpoint = https(&partnership);
    let (ca, cert, key) = (
        path(&pki.ca_file),
        path(&pki.client_files.cert),
        path(&pki.client_files.key),
    );
    let (server_cert, server_key) = (path(&pki.server.cert), path(&pki.server.key));
    let customer = twotier_testkit::start_service::<CustomerService>(
        &customer_db,
        &[
            ("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership_endpoint),
            ("TWOTIER_TLS_CA_FILE", &ca),
            ("TWOTIER_TLS_CLIENT_CERT_FILE", &cert),
            ("TWOTIER_TLS_CLIENT_KEY_FILE", &key),
            ("TWOTIER_TLS_CERT_FILE", &server_cert),
            ("TWOTIER_TLS_KEY_FILE", &server_key),
        ],
    )
    .await;

    let client_tls = ClientTls::none()
        .with_ca(pki.ca.pem())
        .with_identity(&pki.client.cert_pem, &pki.client.key_pem);
    let to_partnership = channel(client_tls.clone(), &partnership_endpoint);
    twotier_testkit::flows::onboard(
        to_partnership.clone(),
        RESELLER,
        RESELLER_TENANT,
        "Fabrikam GmbH",
        "de",
        true,
    )
    .await;
    twotier_testkit::flows::partner(to_partnership, PROVIDER, RESELLER_TENANT).await;

    // The customer service learns of the partnership from the event log it
    // follows over mutual TLS (catching up on demand through the same
    // channel), and serves this call over TLS itself.
    let provider = twotier_testkit::token("alice", PROVIDER, &[Role::GlobalAdmin]);
    let created = CustomerServiceClient::with_interceptor(
        channel(client_tls, &https(&customer)),
        Bearer::new(&provider),
    )
    .create_customer(cpb::CreateCustomerRequest {
        parent: format!("providers/{PROVIDER}"),
        customer: Some(cpb::Customer {
            company_name: "Adatum AG".into(),
            domain_prefix: "adatum".into(),
            address: Some(cpb::Address {
                address_line1: "Hauptstraße 1".into(),
                city: "Berlin".into(),
                postal_code: "10115".into(),
                country_code: "DE".into(),
                ..Default::default()
            }),
            primary_contact: Some(cpb::Contact {
                first_name: "Wendy".into(),
                last_name: "Winter".into(),
                email: "wendy@adatum.example".into(),
                phone: String::new(),
            }),
            language_code: "de".into(),
            indirect_reseller_partner_id: RESELLER.into(),
            ..Default::default()
        }),
        validate_only: false,
        request_id: String::new(),
    })
    .await
    .expect("the reseller is known as an active partner")
    .into_inner();
    assert_eq!(
        created
            .customer
            .expect("customer")
            .indirect_reseller_partner_id,
        RESELLER
    );
}
