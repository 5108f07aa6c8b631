//! The ports only a rollback uses: stopping an execution, and finding the services an alarm guards.

use aws_sdk_sfn::operation::stop_execution::{StopExecutionError, StopExecutionOutput};
use aws_sdk_sfn::types::error::ExecutionDoesNotExist;
use aws_sdk_ssm::operation::get_parameters_by_path::GetParametersByPathOutput;
use aws_sdk_ssm::types::Parameter;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::config::SsmTargets;
use cutover_aws::sfn::StepFunctions;
use cutover_aws::{Executions, TargetSource};
use serde_json::json;

#[tokio::test]
async fn stop_sends_error_and_cause_and_a_missing_execution_is_not_an_error() {
    let stop = mock!(aws_sdk_sfn::Client::stop_execution)
        .match_requests(|r| {
            r.execution_arn() == Some("arn:exec:1")
                && r.error() == Some("CutoverRollback")
                && r.cause() == Some("alarm live-5xx")
        })
        .then_output(|| {
            StopExecutionOutput::builder()
                .stop_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap()
        });
    let gone = mock!(aws_sdk_sfn::Client::stop_execution).then_error(|| {
        StopExecutionError::ExecutionDoesNotExist(ExecutionDoesNotExist::builder().build())
    });
    let denied = mock!(aws_sdk_sfn::Client::stop_execution)
        .then_error(|| StopExecutionError::unhandled("AccessDenied"));
    let sfn = StepFunctions::new(mock_client!(
        aws_sdk_sfn,
        RuleMode::Sequential,
        [&stop, &gone, &denied]
    ));
    sfn.stop("arn:exec:1", "CutoverRollback", "alarm live-5xx")
        .await
        .unwrap();
    assert_eq!(stop.num_calls(), 1, "request did not match");
    sfn.stop("arn:exec:2", "CutoverRollback", "again")
        .await
        .unwrap();
    let err = sfn
        .stop("arn:exec:3", "CutoverRollback", "x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("StopExecution"), "{err}");
}

fn target(alarms: &[&str]) -> String {
    json!({
        "cluster": "c", "services": {"blue": "b", "green": "g"}, "containerName": "app",
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/live/1/2",
        "targetGroups": {
            "blue": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1",
            "green": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2"
        },
        "loadBalancer": "app/live/1", "alarms": alarms
    })
    .to_string()
}

fn param(name: &str, value: String) -> Parameter {
    Parameter::builder().name(name).value(value).build()
}

#[tokio::test]
async fn an_alarm_maps_to_every_service_listing_it_across_pages() {
    let first = mock!(aws_sdk_ssm::Client::get_parameters_by_path)
        .match_requests(|r| {
            // Never decrypted: IAM authorizes the path, so a decrypted read would return every
            // SecureString under /cutover, database passwords included.
            r.path() == Some("/cutover/")
                && r.recursive() == Some(true)
                && r.with_decryption() == Some(false)
                && r.next_token().is_none()
        })
        .then_output(|| {
            GetParametersByPathOutput::builder()
                .parameters(param("/cutover/live/prod/target", target(&["live-5xx"])))
                .parameters(param("/cutover/live/prod/other", "x".into()))
                .parameters(param("/cutover/broken/prod/target", "{not json".into()))
                .next_token("t2")
                .build()
        });
    let second = mock!(aws_sdk_ssm::Client::get_parameters_by_path)
        .match_requests(|r| r.next_token() == Some("t2") && r.with_decryption() == Some(false))
        .then_output(|| {
            GetParametersByPathOutput::builder()
                .parameters(param(
                    "/cutover/live/staging/target",
                    target(&["live-5xx", "p99"]),
                ))
                .parameters(param("/cutover/shop/prod/target", target(&["shop-5xx"])))
                .build()
        });
    let ssm = SsmTargets::new(mock_client!(
        aws_sdk_ssm,
        RuleMode::Sequential,
        [&first, &second]
    ));
    let found = ssm.with_alarm("live-5xx").await.unwrap();
    assert_eq!(
        found,
        vec![
            ("live".to_string(), "prod".to_string()),
            ("live".into(), "staging".into())
        ]
    );
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}
