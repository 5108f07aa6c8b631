//! rollback over in-memory ports: traffic back on live, candidate scaled to 0, one record per rollback.

use cutover_aws::fakes::Cloud;
use cutover_core::{Colour, ErrorType, Status, Weights};
use rollback::handle;
use serde_json::{json, Value};

async fn canary_at_10() -> Cloud {
    let c = Cloud::prepared().await;
    c.edit_ledger(|l| {
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 2)
            .unwrap();
    })
    .await;
    c.set_weights(Weights::with_candidate(Colour::Green, 10));
    c.services.add("svc-green", "td:2", 3);
    c
}

fn sample(name: &str) -> Value {
    let text = match name {
        "catch" => include_str!("../../../events/rollback-catch.json"),
        _ => include_str!("../../../events/rollback-manual.json"),
    };
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["app"] = json!("live");
    if v.get("deploymentId").is_some() {
        v["deploymentId"] = json!("d1");
    }
    v
}

#[tokio::test]
async fn a_caught_failure_puts_traffic_back_and_records_the_reason() {
    let c = canary_at_10().await;
    let out = handle(
        &c.lb,
        &c.ledger,
        &c.targets,
        &c.services,
        &sample("catch"),
        5,
    )
    .await
    .unwrap();
    assert_eq!(out["rolledBack"], true);
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(c.services.get("svc-green").desired, 0);
    let d = c.ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    assert_eq!(
        d.reason.as_deref(),
        Some("HealthFailed: alarm live-event-5xx is ALARM")
    );
}

#[tokio::test]
async fn repeated_deliveries_give_one_rollback() {
    let c = canary_at_10().await;
    handle(
        &c.lb,
        &c.ledger,
        &c.targets,
        &c.services,
        &sample("manual"),
        5,
    )
    .await
    .unwrap();
    let after_first = c.ledger();
    let writes = *c.lb.writes.lock().unwrap();
    for _ in 0..3 {
        let out = handle(
            &c.lb,
            &c.ledger,
            &c.targets,
            &c.services,
            &sample("manual"),
            6,
        )
        .await
        .unwrap();
        assert_eq!(out["rolledBack"], false);
    }
    assert_eq!(c.ledger(), after_first, "later deliveries must not write");
    assert_eq!(*c.lb.writes.lock().unwrap(), writes);
}

#[tokio::test]
async fn a_catch_from_another_deployment_touches_nothing() {
    let c = canary_at_10().await;
    let mut event = sample("catch");
    event["deploymentId"] = json!("older");
    let out = handle(&c.lb, &c.ledger, &c.targets, &c.services, &event, 5)
        .await
        .unwrap();
    assert_eq!(out["rolledBack"], false);
    assert_eq!(c.weights(), Weights::with_candidate(Colour::Green, 10));
}

#[tokio::test]
async fn a_request_without_app_is_invalid_input() {
    let c = canary_at_10().await;
    let err = handle(
        &c.lb,
        &c.ledger,
        &c.targets,
        &c.services,
        &json!({"env": "prod", "reason": "x"}),
        5,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(err.reason.starts_with("app"));
    assert_eq!(c.ledger().deployment.unwrap().status, Status::Shifting);
}
