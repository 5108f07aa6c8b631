//! Telemetry at the SDK edge (PutEvents as AWS documents it, partial failures included) and the
//! guarantee every function relies on: telling of a ledger write never fails or stalls it.

use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::fakes::FakeCloud;
use cutover_aws::telemetry::{EventBridgeTelemetry, MAX_ENTRY_BYTES};
use cutover_aws::told::{record, PUBLISH_WITHIN};
use cutover_aws::{AwsError, Telemetry};
use cutover_core::{Colour, Ledger, Status};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

fn ok() -> PutEventsOutput {
    PutEventsOutput::builder()
        .failed_entry_count(0)
        .entries(PutEventsResultEntry::builder().event_id("e-1").build())
        .build()
}

fn refused(code: &str) -> PutEventsOutput {
    PutEventsOutput::builder()
        .failed_entry_count(1)
        .entries(
            PutEventsResultEntry::builder()
                .error_code(code)
                .error_message("refused")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn an_event_goes_to_the_default_bus_as_cutover_and_refused_entries_are_errors() {
    let put = mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(|r| {
            let e = &r.entries()[0];
            r.entries().len() == 1
                && e.source() == Some("cutover")
                && e.detail_type() == Some("Cutover Deployment State Change")
                && e.event_bus_name().is_none()
                && serde_json::from_str::<Value>(e.detail().unwrap()).unwrap()["to"] == "Promoted"
        })
        .then_output(ok);
    let throttled = mock!(aws_sdk_eventbridge::Client::put_events)
        .then_output(|| refused("ThrottlingException"));
    let malformed =
        mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| refused("MalformedDetail"));
    let bus = EventBridgeTelemetry::new(mock_client!(
        aws_sdk_eventbridge,
        RuleMode::Sequential,
        [&put, &throttled, &malformed]
    ));
    let detail = json!({"to": "Promoted"});
    bus.publish("Cutover Deployment State Change", &detail)
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 1, "request did not match");
    let e = bus
        .publish("Cutover Deployment State Change", &detail)
        .await;
    assert!(matches!(e, Err(AwsError::Transient { .. })), "{e:?}");
    let e = bus
        .publish("Cutover Deployment State Change", &detail)
        .await;
    assert!(
        matches!(&e, Err(AwsError::Rejected { code, .. }) if code == "MalformedDetail"),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_entry_over_256_kb_is_refused_before_the_call() {
    let put = mock!(aws_sdk_eventbridge::Client::put_events).then_output(ok);
    let bus = EventBridgeTelemetry::new(mock_client!(aws_sdk_eventbridge, [&put]));
    let detail = json!({"reason": "x".repeat(MAX_ENTRY_BYTES)});
    let e = bus
        .publish("Cutover Deployment State Change", &detail)
        .await;
    assert!(
        matches!(&e, Err(AwsError::Rejected { code, .. }) if code == "EntryTooLarge"),
        "{e:?}"
    );
    assert_eq!(put.num_calls(), 0);
}

async fn claim(c: &FakeCloud) -> Ledger {
    let initial = Ledger::new("live", "prod", Colour::Blue, None);
    let (_, l) = record(c, "live", "prod", Some(&initial), |l| {
        l.acquire("d1", "live:2", None, 1)
    })
    .await
    .unwrap();
    l
}

#[tokio::test]
async fn a_write_tells_its_transition_counts_the_start_and_stores_the_record() {
    let c = FakeCloud::new();
    claim(&c).await;
    assert_eq!(c.telemetry.transitions(), [(None, "Preparing".to_string())]);
    assert_eq!(
        c.telemetry.values("DeploymentsStarted", None),
        [(1.0, None)]
    );
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::Preparing
    );
    // The same claim again writes nothing and tells nothing.
    claim(&c).await;
    assert_eq!(c.telemetry.transitions().len(), 1);
}

#[tokio::test]
async fn a_refusing_bus_does_not_fail_the_write() {
    let c = FakeCloud::new();
    c.telemetry.refuse.store(true, Ordering::SeqCst);
    let l = claim(&c).await;
    assert_eq!(l.deployment.unwrap().status, Status::Preparing);
    assert!(c.telemetry.transitions().is_empty());
    assert_eq!(c.telemetry.values("DeploymentsStarted", None).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_bus_delays_the_write_by_at_most_the_publish_bound() {
    let c = FakeCloud::new();
    c.telemetry.stall.store(true, Ordering::SeqCst);
    let started = tokio::time::Instant::now();
    let l = claim(&c).await;
    assert_eq!(l.deployment.unwrap().status, Status::Preparing);
    assert!(started.elapsed() <= PUBLISH_WITHIN + std::time::Duration::from_millis(10));
}
