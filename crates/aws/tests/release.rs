//! The release ports at the SDK edge, with AWS's documented shapes: Route 53's health-check status
//! (which no local emulator changes), cross-region starts that attach on `ExecutionAlreadyExists`,
//! the regional stack parameter, and the release item's conditional write.

use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_route53::operation::get_health_check_status::{
    GetHealthCheckStatusError, GetHealthCheckStatusOutput,
};
use aws_sdk_route53::types::error::NoSuchHealthCheck;
use aws_sdk_route53::types::{HealthCheckObservation, HealthCheckRegion, StatusReport};
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
use aws_sdk_sfn::types::error::ExecutionAlreadyExists;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::types::error::ParameterNotFound;
use aws_sdk_ssm::types::Parameter;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::DateTime;
use cutover_aws::release::aws::{AwsRegions, DynamoReleases, RegionClients, Route53HealthChecks};
use cutover_aws::release::{HealthChecks, RegionalStack, Regions, Releases, Started};
use cutover_aws::AwsError;
use cutover_core::release::{OnFailure, ReleasePlan, ReleaseRecord};
use std::sync::{Arc, Mutex};

fn observation(status: &str, region: HealthCheckRegion) -> HealthCheckObservation {
    HealthCheckObservation::builder()
        .region(region)
        .ip_address("15.177.2.1")
        .status_report(
            StatusReport::builder()
                .status(status)
                .checked_time(DateTime::from_secs(1_700_000_000))
                .build(),
        )
        .build()
}

#[tokio::test]
async fn health_check_observations_are_each_checkers_status_and_a_missing_check_is_named() {
    let ok = mock!(aws_sdk_route53::Client::get_health_check_status)
        .match_requests(|r| r.health_check_id() == Some("hc-west"))
        .then_output(|| {
            GetHealthCheckStatusOutput::builder()
                .health_check_observations(observation(
                    "Success: HTTP Status Code 200, OK",
                    HealthCheckRegion::UsWest1,
                ))
                .health_check_observations(observation(
                    "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall.",
                    HealthCheckRegion::EuWest1,
                ))
                .build()
                .unwrap()
        });
    let missing = mock!(aws_sdk_route53::Client::get_health_check_status).then_error(|| {
        GetHealthCheckStatusError::NoSuchHealthCheck(
            NoSuchHealthCheck::builder()
                .message("A health check with id gone does not exist.")
                .build(),
        )
    });
    let checks = Route53HealthChecks::new(mock_client!(
        aws_sdk_route53,
        RuleMode::Sequential,
        [&ok, &missing]
    ));
    let seen = checks.observations("hc-west").await.unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].starts_with("Success") && seen[1].starts_with("Failure"));
    assert_eq!(
        cutover_core::release::healthy_share(&seen),
        Some(0.5),
        "the gate's share of these"
    );
    assert!(matches!(
        checks.observations("gone").await.unwrap_err(),
        AwsError::NotFound { .. }
    ));
}

/// Regions whose clients are these rules' mocks; records the regions asked for.
fn regions(sfn: &[&Rule], ssm: &[&Rule]) -> (AwsRegions, Arc<Mutex<Vec<String>>>) {
    let sfn = mock_client!(aws_sdk_sfn, RuleMode::Sequential, sfn);
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::Sequential, ssm);
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[]);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let regions = AwsRegions::with_clients("cutover", move |region| {
        seen.lock().unwrap().push(region.to_string());
        RegionClients {
            sfn: sfn.clone(),
            dynamodb: dynamodb.clone(),
            ssm: ssm.clone(),
        }
    });
    (regions, asked)
}

fn west() -> RegionalStack {
    RegionalStack {
        region: "us-west-2".into(),
        deploy_state_machine_arn:
            "arn:aws:states:us-west-2:123456789012:stateMachine:cutover-deploy".into(),
        ledger_table: "cutover-LedgerTable-ABC".into(),
    }
}

#[tokio::test]
async fn the_regional_stack_is_read_from_its_parameter_and_absent_when_unpublished() {
    let found = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/cutover-stack/cutover"))
        .then_output(|| {
            GetParameterOutput::builder()
                .parameter(
                    Parameter::builder()
                        .name("/cutover-stack/cutover")
                        .value(r#"{"deployStateMachineArn": "arn:aws:states:us-west-2:123456789012:stateMachine:cutover-deploy", "ledgerTable": "cutover-LedgerTable-ABC"}"#)
                        .build(),
                )
                .build()
        });
    let absent = mock!(aws_sdk_ssm::Client::get_parameter)
        .then_error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()));
    let (regions, asked) = regions(&[], &[&found, &absent]);
    assert_eq!(regions.stack("us-west-2").await.unwrap(), Some(west()));
    assert_eq!(regions.stack("eu-west-1").await.unwrap(), None);
    assert_eq!(*asked.lock().unwrap(), ["us-west-2", "eu-west-1"]);
}

#[tokio::test]
async fn a_start_under_a_taken_name_reports_that_executions_input() {
    let new = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|r| {
            r.state_machine_arn() == Some(west().deploy_state_machine_arn.as_str())
                && r.name() == Some("shop-prod-r1-abc")
                && r.input() == Some("{}")
        })
        .then_output(|| {
            StartExecutionOutput::builder()
                .execution_arn("arn:aws:states:us-west-2:123456789012:execution:cutover-deploy:shop-prod-r1-abc")
                .start_date(DateTime::from_secs(0))
                .build()
                .unwrap()
        });
    let taken = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
        StartExecutionError::ExecutionAlreadyExists(ExecutionAlreadyExists::builder().build())
    });
    let theirs = mock!(aws_sdk_sfn::Client::describe_execution)
        .match_requests(|r| {
            r.execution_arn()
                == Some("arn:aws:states:us-west-2:123456789012:execution:cutover-deploy:shop-prod-r1-abc")
        })
        .then_output(|| {
            DescribeExecutionOutput::builder()
                .execution_arn("arn:aws:states:us-west-2:123456789012:execution:cutover-deploy:shop-prod-r1-abc")
                .state_machine_arn(west().deploy_state_machine_arn)
                .status(ExecutionStatus::Succeeded)
                .input(r#"{"image":"other"}"#)
                .start_date(DateTime::from_secs(0))
                .build()
                .unwrap()
        });
    let (regions, _) = regions(&[&new, &taken, &theirs], &[]);
    assert!(matches!(
        regions
            .start(&west(), "shop-prod-r1-abc", "{}")
            .await
            .unwrap(),
        Started::New { .. }
    ));
    match regions
        .start(&west(), "shop-prod-r1-abc", "{}")
        .await
        .unwrap()
    {
        Started::Existing { arn, input } => {
            assert!(
                arn.ends_with(":execution:cutover-deploy:shop-prod-r1-abc"),
                "{arn}"
            );
            assert_eq!(input, r#"{"image":"other"}"#);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_release_item_is_written_only_on_its_version() {
    let first = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| {
            r.condition_expression() == Some("attribute_not_exists(pk)")
                && r.item()
                    .and_then(|i| i.get("sk"))
                    .and_then(|v| v.as_s().ok())
                    == Some(&"RELEASE".to_string())
                && r.item()
                    .and_then(|i| i.get("version"))
                    .and_then(|v| v.as_n().ok())
                    == Some(&"1".to_string())
        })
        .then_output(|| PutItemOutput::builder().build());
    let lost = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| r.condition_expression() == Some("#v = :v"))
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().build(),
            )
        });
    let releases = DynamoReleases::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&first, &lost]),
        mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[]),
        mock_client!(aws_sdk_sfn, RuleMode::Sequential, &[]),
        "cutover-LedgerTable-HOME",
    );
    let plan = ReleasePlan {
        waves: vec![vec!["us-east-1".into()]],
        bake_seconds: 0,
        on_failure: OnFailure::Stop,
        failover: Vec::new(),
    };
    let mut record = ReleaseRecord::new("shop", "prod", "r1", "img:2", plan, 1);
    assert!(releases.save(&record).await.unwrap());
    record.version = 1;
    assert!(
        !releases.save(&record).await.unwrap(),
        "someone else wrote first"
    );
}

#[tokio::test]
async fn a_release_executions_status_is_read_and_a_forgotten_one_is_none() {
    use aws_sdk_sfn::operation::describe_execution::DescribeExecutionError;
    use aws_sdk_sfn::types::error::ExecutionDoesNotExist;
    let arn = "arn:aws:states:us-east-1:123456789012:execution:cutover-release:shop-prod-r1";
    let stopped = mock!(aws_sdk_sfn::Client::describe_execution)
        .match_requests(move |r| r.execution_arn() == Some(arn))
        .then_output(|| {
            DescribeExecutionOutput::builder()
                .execution_arn(
                    "arn:aws:states:us-east-1:123456789012:execution:cutover-release:shop-prod-r1",
                )
                .state_machine_arn(
                    "arn:aws:states:us-east-1:123456789012:stateMachine:cutover-release",
                )
                .status(ExecutionStatus::Aborted)
                .start_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        });
    let gone = mock!(aws_sdk_sfn::Client::describe_execution).then_error(|| {
        DescribeExecutionError::ExecutionDoesNotExist(
            ExecutionDoesNotExist::builder()
                .message("Execution Does Not Exist")
                .build(),
        )
    });
    let releases = DynamoReleases::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[]),
        mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[]),
        mock_client!(aws_sdk_sfn, RuleMode::Sequential, [&stopped, &gone]),
        "cutover-LedgerTable-HOME",
    );
    assert_eq!(
        releases.execution_status(arn).await.unwrap().as_deref(),
        Some("ABORTED")
    );
    assert_eq!(releases.execution_status(arn).await.unwrap(), None);
}

#[tokio::test]
async fn a_start_at_the_accounts_execution_quota_is_transient() {
    use aws_sdk_sfn::types::error::ExecutionLimitExceeded;
    let full = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
        StartExecutionError::ExecutionLimitExceeded(
            ExecutionLimitExceeded::builder()
                .message("Maximum number of running executions reached")
                .build(),
        )
    });
    let (regions, _) = regions(&[&full], &[]);
    let err = regions
        .start(&west(), "shop-prod-r1-abc", "{}")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Transient { operation: "StartExecution", message }
            if message.contains("us-west-2") && message.contains("Maximum number")),
        "{err}"
    );
    assert_eq!(
        cutover_core::Failure::from(err).error_type,
        cutover_core::ErrorType::AwsTransient
    );
}
