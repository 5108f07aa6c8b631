//! AppConfig flags (session kept, poll interval honoured) and SSM target configurations (validated,
//! cached, unknown services named) against mocked responses.

use aws_sdk_appconfigdata::operation::get_latest_configuration::GetLatestConfigurationOutput;
use aws_sdk_appconfigdata::operation::start_configuration_session::StartConfigurationSessionOutput;
use aws_sdk_appconfigdata::primitives::Blob;
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::types::error::ParameterNotFound;
use aws_sdk_ssm::types::Parameter;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::config::SsmTargets;
use cutover_aws::flags::AppConfigFlags;
use cutover_aws::{FlagSource, TargetSource};
use cutover_core::{ErrorType, Flags};
use serde_json::json;

#[tokio::test]
async fn flags_come_from_one_session_and_are_not_polled_early() {
    let start = mock!(aws_sdk_appconfigdata::Client::start_configuration_session)
        .match_requests(|r| {
            r.application_identifier() == Some("cutover")
                && r.configuration_profile_identifier() == Some("flags")
        })
        .then_output(|| {
            StartConfigurationSessionOutput::builder()
                .initial_configuration_token("t0")
                .build()
        });
    let get = mock!(aws_sdk_appconfigdata::Client::get_latest_configuration)
        .match_requests(|r| r.configuration_token() == Some("t0"))
        .then_output(|| {
            GetLatestConfigurationOutput::builder()
                .next_poll_configuration_token("t1")
                .next_poll_interval_in_seconds(60)
                .configuration(Blob::new(
                    json!({"deploymentsFrozen": {"enabled": true}}).to_string(),
                ))
                .build()
        });
    let client = mock_client!(aws_sdk_appconfigdata, RuleMode::MatchAny, [&start, &get]);
    let flags = AppConfigFlags::new(client, "cutover", "prod", "flags");
    let expected = Flags {
        deployments_frozen: true,
        auto_rollback: true,
    };
    assert_eq!(flags.flags().await.unwrap(), expected);
    assert_eq!(
        flags.flags().await.unwrap(),
        expected,
        "served from the cached document"
    );
    assert_eq!(
        (start.num_calls(), get.num_calls()),
        (1, 1),
        "the second read must wait for the poll interval"
    );
}

fn parameter(value: serde_json::Value) -> GetParameterOutput {
    GetParameterOutput::builder()
        .parameter(
            Parameter::builder()
                .name("/cutover/live/prod/target")
                .value(value.to_string())
                .build(),
        )
        .build()
}

fn target() -> serde_json::Value {
    json!({
        "cluster": "live-event",
        "services": {"blue": "live-event-service-blue", "green": "live-event-service-green"},
        "containerName": "app",
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/live/1/2",
        "targetGroups": {
            "blue": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1",
            "green": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2"
        },
        "loadBalancer": "app/live/1"
    })
}

#[tokio::test]
async fn a_target_is_validated_and_cached() {
    let get = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| {
            r.name() == Some("/cutover/live/prod/target") && r.with_decryption() == Some(false)
        })
        .then_output(|| parameter(target()));
    let ssm = SsmTargets::new(mock_client!(aws_sdk_ssm, [&get]));
    assert_eq!(
        ssm.target("live", "prod").await.unwrap().cluster,
        "live-event"
    );
    ssm.target("live", "prod").await.unwrap();
    assert_eq!(get.num_calls(), 1);
}

#[tokio::test]
async fn an_unknown_service_and_bad_fields_are_invalid_input() {
    let missing = mock!(aws_sdk_ssm::Client::get_parameter)
        .then_error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()));
    let err = SsmTargets::new(mock_client!(aws_sdk_ssm, [&missing]))
        .target("nope", "prod")
        .await
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(
        err.reason.contains("unknown service nope/prod"),
        "{}",
        err.reason
    );

    let mut bad = target();
    bad["listenerArn"] = json!("arn:aws:s3:::bucket");
    let invalid =
        mock!(aws_sdk_ssm::Client::get_parameter).then_output(move || parameter(bad.clone()));
    let err = SsmTargets::new(mock_client!(aws_sdk_ssm, [&invalid]))
        .target("live", "prod")
        .await
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert_eq!(err.details["fields"][0]["field"], "listenerArn");
}

/// The stack's policies allow one listener and one cluster: a configuration naming others would be
/// denied by IAM half-way through a deployment, so it is refused when loaded.
#[tokio::test]
async fn a_target_outside_the_stacks_listener_and_cluster_is_refused_on_load() {
    let scope = |listener: &str| cutover_core::Scope {
        listener_arn: listener.into(),
        listener_rule_arn: None,
        cluster: "live-event".into(),
    };
    let get = || mock!(aws_sdk_ssm::Client::get_parameter).then_output(|| parameter(target()));
    let inside = target()["listenerArn"].as_str().unwrap().to_string();
    let ssm = SsmTargets::new(mock_client!(aws_sdk_ssm, [&get()])).within(Some(scope(&inside)));
    assert!(ssm.target("live", "prod").await.is_ok());
    let other = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/payments/9/9";
    let ssm = SsmTargets::new(mock_client!(aws_sdk_ssm, [&get()])).within(Some(scope(other)));
    let err = ssm.target("live", "prod").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert_eq!(err.details["fields"][0]["field"], "listenerArn");
    assert!(err.reason.contains("ListenerArn is"), "{}", err.reason);
}
