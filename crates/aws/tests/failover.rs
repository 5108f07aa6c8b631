//! prepare's failover partner at the SDK edge: the partner region's stack parameter, then its ledger
//! item, read in that region; what counts as a deployment in flight.

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::types::error::ParameterNotFound;
use aws_sdk_ssm::types::Parameter;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cutover_aws::failover::AwsPartners;
use cutover_aws::release::aws::{AwsRegions, RegionClients, Route53HealthChecks};
use cutover_aws::{AwsError, Partners};
use cutover_core::{Colour, Ledger, Status};
use std::sync::{Arc, Mutex};

fn stack_parameter() -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameter)
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
        })
}

/// The partner's ledger item with deployment `d7` in `status`.
fn ledger_item(status: Status) -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|r| {
            r.table_name() == Some("cutover-LedgerTable-ABC") && r.consistent_read() == Some(true)
        })
        .then_output(move || {
            let mut l = Ledger::new("live", "prod", Colour::Blue, None);
            l.acquire("d7", "live:2", None, 1).unwrap();
            l.deployment.as_mut().unwrap().status = status;
            let item = serde_dynamo::to_item(&l).unwrap();
            GetItemOutput::builder().set_item(Some(item)).build()
        })
}

fn partners(ssm: &[&Rule], dynamodb: &[&Rule]) -> (AwsPartners, Arc<Mutex<Vec<String>>>) {
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::Sequential, ssm);
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, dynamodb);
    let sfn = mock_client!(aws_sdk_sfn, RuleMode::Sequential, &[]);
    let route53 = mock_client!(aws_sdk_route53, RuleMode::Sequential, &[]);
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
    let p = AwsPartners::with(
        "us-east-1",
        Route53HealthChecks::new(route53),
        Some(regions),
    );
    (p, asked)
}

#[tokio::test]
async fn a_deployment_in_flight_is_read_from_the_partners_own_region() {
    let (ssm, item) = (stack_parameter(), ledger_item(Status::Verifying));
    let (p, asked) = partners(&[&ssm], &[&item]);
    assert_eq!(
        p.in_flight("us-west-2", "live", "prod").await.unwrap(),
        Some(("d7".to_string(), Status::Verifying))
    );
    assert_eq!(*asked.lock().unwrap(), ["us-west-2"]);
}

#[tokio::test]
async fn a_final_deployment_or_an_unpublished_stack_is_nothing_in_flight() {
    let (ssm, item) = (stack_parameter(), ledger_item(Status::Promoted));
    let (p, _) = partners(&[&ssm], &[&item]);
    assert_eq!(
        p.in_flight("us-west-2", "live", "prod").await.unwrap(),
        None
    );

    let absent = mock!(aws_sdk_ssm::Client::get_parameter)
        .then_error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()));
    let (p, _) = partners(&[&absent], &[]);
    assert_eq!(
        p.in_flight("eu-west-1", "live", "prod").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn without_the_stack_name_the_partners_ledger_cannot_be_found() {
    let route53 = mock_client!(aws_sdk_route53, RuleMode::Sequential, &[]);
    let p = AwsPartners::with("us-east-1", Route53HealthChecks::new(route53), None);
    let err = p.in_flight("us-west-2", "live", "prod").await.unwrap_err();
    assert!(
        matches!(&err, AwsError::Unusable { id, .. } if id == "REGIONAL_STACK_NAME"),
        "{err}"
    );
    assert_eq!(p.region(), "us-east-1");
}
