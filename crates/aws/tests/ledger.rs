//! The DynamoDB ledger against mocked responses: conditional writes and the re-apply loop.

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::{update_ledger, LedgerStore};
use cutover_core::{Colour, ErrorType, Ledger, Release, Status};
use std::collections::HashMap;

fn release() -> Release {
    Release {
        task_definition_arn: "arn:aws:ecs:us-east-1:1:task-definition/live:1".into(),
        image: "img:1".into(),
    }
}

fn item(l: &Ledger) -> HashMap<String, AttributeValue> {
    let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(l).unwrap();
    item.insert("pk".into(), AttributeValue::S("live#prod".into()));
    item.insert("sk".into(), AttributeValue::S("LEDGER".into()));
    item
}

fn stored(version: u64, active: Option<&str>) -> Ledger {
    let mut l = Ledger::new("live", "prod", Colour::Blue, Some(release()));
    if let Some(id) = active {
        l.acquire(id, "img:9", None, 1).unwrap();
    }
    l.version = version;
    l
}

#[tokio::test]
async fn the_first_write_requires_no_item_and_later_ones_the_read_version() {
    let first = mock!(Client::put_item)
        .match_requests(|r| {
            r.condition_expression() == Some("attribute_not_exists(pk)")
                && r.item().unwrap().get("version") == Some(&AttributeValue::N("1".into()))
                && r.item().unwrap().get("pk") == Some(&AttributeValue::S("live#prod".into()))
        })
        .then_output(|| PutItemOutput::builder().build());
    let later = mock!(Client::put_item)
        .match_requests(|r| {
            r.condition_expression() == Some("#v = :v")
                && r.expression_attribute_values().unwrap().get(":v")
                    == Some(&AttributeValue::N("4".into()))
                && r.item().unwrap().get("version") == Some(&AttributeValue::N("5".into()))
        })
        .then_output(|| PutItemOutput::builder().build());
    let store = DynamoLedger::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&first, &later]),
        "ledger",
    );
    assert!(store.save(&stored(0, None)).await.unwrap());
    assert!(store.save(&stored(4, None)).await.unwrap());
    assert_eq!((first.num_calls(), later.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_lost_race_is_reapplied_to_the_latest_record() {
    // We read version 3 with no deployment; meanwhile another start took the ledger (version 4).
    let get = mock!(Client::get_item)
        .sequence()
        .output(|| {
            GetItemOutput::builder()
                .set_item(Some(item(&stored(3, None))))
                .build()
        })
        .output(|| {
            GetItemOutput::builder()
                .set_item(Some(item(&stored(4, Some("other")))))
                .build()
        })
        .build();
    let put = mock!(Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        )
    });
    let store = DynamoLedger::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put]),
        "ledger",
    );
    let err = update_ledger(&store, "live", "prod", None, |l| {
        l.acquire("mine", "img:2", None, 5)
    })
    .await
    .unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict, "{err:?}");
    assert_eq!(err.details["activeDeploymentId"], "other");
    assert_eq!((get.num_calls(), put.num_calls()), (2, 1));
}

#[tokio::test]
async fn a_ledger_read_back_keeps_every_field() {
    let mut l = stored(7, Some("c1"));
    l.record_shift(
        "c1",
        0,
        cutover_core::Weights::with_candidate(Colour::Green, 10),
        2,
    )
    .unwrap();
    let expected = l.clone();
    let get = mock!(Client::get_item)
        .match_requests(|r| {
            r.consistent_read() == Some(true)
                && r.key().unwrap().get("sk") == Some(&AttributeValue::S("LEDGER".into()))
        })
        .then_output(move || GetItemOutput::builder().set_item(Some(item(&l))).build());
    let store = DynamoLedger::new(mock_client!(aws_sdk_dynamodb, [&get]), "ledger");
    let back = store.load("live", "prod").await.unwrap().unwrap();
    assert_eq!(back, expected);
    assert_eq!(back.deployment.unwrap().status, Status::Shifting);
}

#[tokio::test]
async fn no_item_is_no_ledger() {
    let get = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let store = DynamoLedger::new(mock_client!(aws_sdk_dynamodb, [&get]), "ledger");
    assert_eq!(store.load("live", "prod").await.unwrap(), None);
}

/// DynamoDB's throttling error past the SDK's retries is transient, so the state machines retry the
/// step (`AwsTransient`); it used to be `InvalidInput`, which fails a deployment at its first step.
#[tokio::test]
async fn a_throttled_ledger_read_past_the_sdk_retries_is_aws_transient() {
    use aws_smithy_types::retry::RetryConfig;
    const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
    let get = mock!(Client::get_item)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get], |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        ));
    let err = DynamoLedger::new(client, "ledger")
        .load("live", "prod")
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::AwsTransient, "{err:?}");
    assert_eq!(get.num_calls(), 3, "the SDK retried it first");
}
