//! R29, the audit trail, through gRPC: every command records who ran it,
//! what on which resource with which request id, when, its outcome and its
//! trace id, a refused command too; a provider reads its own tenant's
//! records (its users' commands and those done to its resources), another
//! provider none of them, the platform operator all; filters by resource,
//! actor and time; paged.

use tonic::Code;
use twotier_platform::config::{LogFormat, TelemetrySettings};
use twotier_proto::audit::audit_log_service_client::AuditLogServiceClient;
use twotier_proto::audit::{AuditRecord, ListAuditRecordsRequest};
use twotier_proto::partnership as pb;
use twotier_testkit::{Bearer, System, assert_error, flows, operator, provider_admin};

async fn records(
    system: &System,
    token: &str,
    request: ListAuditRecordsRequest,
) -> Vec<AuditRecord> {
    AuditLogServiceClient::with_interceptor(system.channel("partnership"), Bearer::new(token))
        .list_audit_records(request)
        .await
        .expect("list audit records")
        .into_inner()
        .audit_records
}

fn rpc(method: &str) -> String {
    format!("/twotier.partnership.v1.PartnershipService/{method}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_recorded_with_actor_resource_outcome_and_trace_and_read_per_tenant() {
    // Spans get trace ids only with the process's telemetry installed.
    let _telemetry = twotier_platform::telemetry::init(&TelemetrySettings {
        service_name: "audit-trail-test".into(),
        log_filter: "info".into(),
        log_format: LogFormat::Human,
        otlp_endpoint: None,
    })
    .expect("telemetry");
    let system = System::start(&["partnership"], &[]).await;
    let partnership = system.channel("partnership");
    flows::onboard(
        partnership.clone(),
        "4567890",
        "fabrikam",
        "Fabrikam",
        "en",
        true,
    )
    .await;
    let invitation = system
        .partnerships(&provider_admin("contoso"))
        .request_partnership(pb::RequestPartnershipRequest {
            parent: "providers/contoso".into(),
            reseller_email: "admin@fabrikam.example".into(),
            language_code: "en".into(),
            request_id: "invite-fabrikam".into(),
        })
        .await
        .expect("invite")
        .into_inner();
    flows::accept(partnership.clone(), "fabrikam", &invitation).await;
    // A refused command: the invitation was used.
    let invitation_name = invitation.invitation.expect("invitation").name;
    assert_error(
        system
            .partnerships(&provider_admin("contoso"))
            .revoke_invitation(pb::RevokeInvitationRequest {
                name: invitation_name.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "INVITATION_NOT_PENDING",
    );

    let contoso = records(&system, &provider_admin("contoso"), Default::default()).await;
    let rpcs: Vec<&str> = contoso.iter().map(|r| r.rpc.as_str()).collect();
    assert_eq!(
        rpcs,
        vec![
            rpc("RevokeInvitation"),
            rpc("AcceptInvitation"),
            rpc("RequestPartnership")
        ],
        "newest first; the operator's onboarding is not Contoso's"
    );
    let [revoked, accepted, requested] = [&contoso[0], &contoso[1], &contoso[2]];
    let actor = requested.actor.as_ref().expect("actor");
    assert_eq!(actor.subject, "alice");
    assert_eq!(actor.tenant_id, "contoso");
    assert_eq!(actor.roles, vec!["GlobalAdmin"]);
    // A create is recorded under what it created.
    assert_eq!(requested.resource, invitation_name);
    assert_eq!(requested.request_id, "invite-fabrikam");
    assert_eq!(
        (requested.outcome.as_str(), requested.code.as_str()),
        ("OK", "OK")
    );
    assert_eq!(requested.trace_id.len(), 32, "the call's W3C trace id");
    // The reseller's acceptance concerns Contoso's partnership.
    assert_eq!(
        accepted.actor.as_ref().expect("actor").tenant_id,
        "fabrikam"
    );
    assert!(
        accepted
            .resource
            .starts_with("providers/contoso/partnerships/"),
        "{}",
        accepted.resource
    );
    assert_eq!(accepted.resource_tenant_id, "contoso");
    assert_eq!(revoked.resource, invitation_name);
    assert_eq!(
        (revoked.outcome.as_str(), revoked.code.as_str()),
        ("INVITATION_NOT_PENDING", "FAILED_PRECONDITION"),
        "a refusal is recorded, though its transaction was rolled back"
    );

    // Another provider reads none of it; the operator reads everything.
    assert!(
        records(&system, &provider_admin("northwind"), Default::default())
            .await
            .is_empty()
    );
    let all = records(&system, &operator(), Default::default()).await;
    assert!(
        all.iter()
            .any(|r| r.rpc == "/twotier.partnership.v1.ResellerService/OnboardReseller"),
        "the operator sees its own commands"
    );
    assert_eq!(all.len(), contoso.len() + 1);

    // Filters: resource, actor, time; paging.
    let by_resource = records(
        &system,
        &provider_admin("contoso"),
        ListAuditRecordsRequest {
            resource: invitation_name.clone(),
            ..Default::default()
        },
    )
    .await;
    let rpcs: Vec<&str> = by_resource.iter().map(|r| r.rpc.as_str()).collect();
    assert_eq!(
        rpcs,
        [rpc("RevokeInvitation"), rpc("RequestPartnership")],
        "what was done to the invitation, its creation included"
    );
    let by_actor = records(
        &system,
        &operator(),
        ListAuditRecordsRequest {
            actor_subject: "rita".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_actor.len(), 1);
    let before_anything = records(
        &system,
        &operator(),
        ListAuditRecordsRequest {
            end_time: all.last().and_then(|r| r.occur_time),
            ..Default::default()
        },
    )
    .await;
    assert!(before_anything.is_empty(), "end_time is exclusive");
    let mut client = AuditLogServiceClient::with_interceptor(partnership, Bearer::new(&operator()));
    let first = client
        .list_audit_records(ListAuditRecordsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(first.audit_records.len(), 2);
    let second = client
        .list_audit_records(ListAuditRecordsRequest {
            page_size: 2,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(second.audit_records.len(), 2);
    assert!(second.next_page_token.is_empty());
}
