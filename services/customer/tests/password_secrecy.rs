//! R11: the temporary password is returned once and found nowhere else —
//! not in the database (files or rows), not in the logs at trace level,
//! not in any event.

mod common;

use common::*;
use tracing_subscriber::fmt::MakeWriter;
use twotier_testkit::secrets::{CapturedLogs, contains, database_contents};

/// Lets `tracing_subscriber` write into the captured logs.
#[derive(Clone, Default)]
struct Writer(CapturedLogs);

impl<'a> MakeWriter<'a> for Writer {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.clone()
    }
}

#[tokio::test]
async fn temporary_password_is_nowhere_but_in_the_first_response() {
    let logs = CapturedLogs::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(Writer(logs.clone()))
        .with_ansi(false)
        .init();

    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let mut request = create(PROVIDER, new_customer("Adatum", "adatum", RESELLER));
    request.request_id = "secret-check".into();
    let created = h
        .customers(&provider_admin(PROVIDER))
        .create_customer(request.clone())
        .await
        .expect("create")
        .into_inner();
    let password = created
        .admin_credentials
        .expect("credentials")
        .temporary_password;
    let retry = h
        .customers(&provider_admin(PROVIDER))
        .create_customer(request)
        .await
        .expect("retry")
        .into_inner();
    assert!(retry.admin_credentials.is_none());

    let events = h.events(2).await;
    for event in &events {
        let encoded = prost::Message::encode_to_vec(event);
        assert!(
            !contains(&encoded, &password),
            "event {} carries the password",
            event.event_type
        );
    }
    let stored = database_contents(h.db("customer")).await;
    assert!(
        contains(&stored, "adatum"),
        "the search does see stored data"
    );
    assert!(
        !contains(&stored, &password),
        "the database holds the password"
    );
    let captured = logs.bytes();
    assert!(
        contains(&captured, "TRACE") || contains(&captured, "DEBUG"),
        "logging ran at trace level"
    );
    assert!(
        !contains(&captured, &password),
        "the logs hold the password"
    );
}
