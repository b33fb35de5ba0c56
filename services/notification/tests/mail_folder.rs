//! The embedded default: with no SMTP server configured, each email is
//! written as an `.eml` file into the mail folder under the data directory.

use std::time::Duration;

use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_testkit::{Bearer, TestDatabase};

#[tokio::test]
async fn without_smtp_emails_are_written_as_eml_files_into_the_mail_folder() {
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership =
        twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
    let endpoint = partnership.endpoint();
    let notification_db = TestDatabase::new("notification").await;
    let _notification = twotier_testkit::start_service::<NotificationService>(
        &notification_db,
        &[
            ("TWOTIER_PARTNERSHIP_ENDPOINT", &endpoint),
            ("TWOTIER_MAIL_POLL_INTERVAL", "100ms"),
        ],
    )
    .await;
    let token = twotier_testkit::token("alice", "contoso", &[Role::GlobalAdmin]);
    let mut client =
        PartnershipServiceClient::with_interceptor(partnership.channel(), Bearer::new(&token));
    let invitation = client
        .request_partnership(ppb::RequestPartnershipRequest {
            parent: "providers/contoso".into(),
            reseller_email: "admin@fabrikam.example".into(),
            language_code: "de".into(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let draft = invitation.email_draft.unwrap();
    client
        .send_invitation_email(ppb::SendInvitationEmailRequest {
            invitation: invitation.invitation.unwrap().name,
            subject: String::new(),
            body: draft.body,
            request_id: String::new(),
        })
        .await
        .unwrap();
    let folder = notification_db.data_dir().join("mail");
    let eml = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&folder)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default()
    };
    twotier_testkit::wait_until("an .eml file", Duration::from_secs(60), || async {
        !eml().is_empty()
    })
    .await;
    let files = eml();
    assert_eq!(files.len(), 1);
    // Emails carry personal links: the spool is the service user's only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700, "the mail folder");
        assert_eq!(mode(&files[0]), 0o600, "the email file");
    }
    let message = std::fs::read(&files[0]).unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(&message)
        .unwrap();
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address().unwrap(),
        "admin@fabrikam.example"
    );
    assert!(
        parsed.subject().unwrap().contains("lädt Sie"),
        "German subject from the draft"
    );
    assert!(
        parsed
            .body_text(0)
            .unwrap()
            .contains(&invitation.invitation_link)
    );
}
