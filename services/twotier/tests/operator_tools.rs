//! What an operator reaches for: the version of every binary and of every
//! answer, and reflection that lets grpcurl decode error details.

use tonic::Code;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use twotier_proto::partnership as pb;
use twotier_testkit::{System, provider_admin};

#[test]
fn every_binary_tells_its_version() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_twotier"))
        .arg("--version")
        .output()
        .expect("twotier --version");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(printed.contains(twotier_platform::VERSION), "{printed}");
}

#[tokio::test]
async fn every_answer_names_the_release_and_reflection_decodes_error_details() {
    let system = System::start(&["partnership"], &[]).await;
    let answered = system
        .partnerships(&provider_admin("contoso"))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(
        answered
            .metadata()
            .get("twotier-version")
            .map(|v| v.to_str().unwrap_or_default()),
        Some(twotier_platform::VERSION)
    );
    let refused = system
        .partnerships(&provider_admin("contoso"))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: "providers/northwind".into(),
            ..Default::default()
        })
        .await
        .expect_err("foreign");
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(
        refused
            .metadata()
            .get("twotier-version")
            .map(|v| v.to_str().unwrap_or_default()),
        Some(twotier_platform::VERSION),
        "refusals too"
    );

    // grpcurl resolves the type of each error detail by reflection.
    let mut reflection = ServerReflectionClient::new(system.channel("partnership"));
    for symbol in [
        "google.rpc.ErrorInfo",
        "google.rpc.BadRequest",
        "google.rpc.RetryInfo",
    ] {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(symbol.into())),
        };
        let mut answers = reflection
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .expect("reflection")
            .into_inner();
        let answer = answers
            .message()
            .await
            .expect("answer")
            .expect("one answer");
        assert!(
            matches!(
                answer.message_response,
                Some(MessageResponse::FileDescriptorResponse(ref files)) if !files.file_descriptor_proto.is_empty()
            ),
            "{symbol}: {answer:?}"
        );
    }
}
