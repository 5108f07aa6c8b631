//! shift-traffic over in-memory ports: ledger-checked shifts, idempotence, refusals, and the
//! rollback that lands while a shift is in flight.

use cutover_aws::fakes::FakeCloud;
use cutover_core::{Colour, ErrorType, Failure, Status, Weights};
use serde_json::{json, Value};
use shift_traffic::handle;

async fn shift(c: &FakeCloud, event: Value) -> Result<Value, Failure> {
    let out = handle(c, &event, 5).await;
    c.assert_calls_within(shift_traffic::CALLS);
    out
}

fn step(i: u32, weight: u8) -> Value {
    json!({"app": "live", "env": "prod", "deploymentId": "d1", "stepIndex": i, "weight": weight})
}

#[tokio::test]
async fn each_step_moves_the_listener_and_is_recorded() {
    let c = FakeCloud::prepared().await;
    shift(&c, step(0, 10)).await.unwrap();
    assert_eq!(c.weights(), Weights::new(90, 10).unwrap());
    let err = shift(&c, step(1, 100)).await.unwrap_err();
    assert_eq!(
        err.error_type,
        ErrorType::Conflict,
        "a step must be verified before the next one"
    );
    assert_eq!(
        c.weights(),
        Weights::new(90, 10).unwrap(),
        "a refused step must not touch the listener"
    );
    c.edit_ledger(|l| {
        l.record_verifying("d1", 4).unwrap();
    })
    .await;
    let out = shift(&c, step(1, 100)).await.unwrap();
    assert_eq!(out["previous"], json!({"blue": 90, "green": 10}));
    assert_eq!(c.weights(), Weights::all_on(Colour::Green));
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::Shifting);
    assert_eq!(
        d.shifts
            .iter()
            .map(|s| (s.step_index, s.weights.green()))
            .collect::<Vec<_>>(),
        [(0, 10), (1, 100)]
    );
}

#[tokio::test]
async fn a_repeated_step_writes_nothing_more() {
    let c = FakeCloud::prepared().await;
    shift(&c, step(0, 10)).await.unwrap();
    let out = shift(&c, step(0, 10)).await.unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(*c.lb.writes.lock().unwrap(), 1);
    assert_eq!(c.stored_ledger().deployment.unwrap().shifts.len(), 1);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let c = FakeCloud::prepared().await;
    for (event, field) in [
        (json!({"weights": {"blue": 60, "green": 60}}), "weights"),
        (json!({"weights": {"blue": 90.5, "green": 9.5}}), "weights"),
        (
            json!({"app": "live", "env": "prod", "deploymentId": "d1", "weight": 101}),
            "weight",
        ),
        (
            json!({"app": "live", "env": "prod", "weight": 10}),
            "deploymentId",
        ),
        (
            json!({"app": "live/x", "env": "prod", "deploymentId": "d1", "weight": 10}),
            "app",
        ),
        (json!("90/10"), "$"),
    ] {
        let err = shift(&c, event.clone()).await.unwrap_err();
        assert_eq!(err.error_type, ErrorType::InvalidInput, "{event}");
        assert!(err.reason.starts_with(field), "{field}: {}", err.reason);
    }
    assert_eq!(*c.lb.writes.lock().unwrap(), 0);
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
}

#[tokio::test]
async fn a_listener_moved_by_hand_is_a_conflict_and_is_not_written() {
    let c = FakeCloud::prepared().await;
    c.set_weights(Weights::new(50, 50).unwrap());
    let err = shift(&c, step(0, 10)).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(err.details["found"], json!({"blue": 50, "green": 50}));
    assert_eq!(*c.lb.writes.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_rolling_back_deployment_is_aborted_without_a_write() {
    let c = FakeCloud::prepared().await;
    c.edit_ledger(|l| {
        l.begin_rollback("alarm live-5xx", 3).unwrap();
    })
    .await;
    let err = shift(&c, step(0, 10)).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Aborted);
    assert_eq!(*c.lb.writes.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_shift_delayed_past_a_whole_rollback_never_writes_the_listener() {
    let c = FakeCloud::prepared().await;
    // The shift checked the ledger, then its listener read stalled while a rollback ran to its end
    // (claim, live weights, re-assert window over, RolledBack).
    let ledger = c.ledger.clone();
    c.lb.after_each_read(move || {
        let mut l = ledger.get("live", "prod").expect("a ledger");
        if l.begin_rollback("alarm live-5xx", 3).unwrap() {
            l.finish_rollback(4).unwrap();
            assert!(ledger.put(&l));
        }
    });
    let err = shift(&c, step(0, 10)).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Aborted);
    assert_eq!(
        *c.lb.writes.lock().unwrap(),
        0,
        "the listener was written after the rollback"
    );
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RolledBack
    );
}

#[tokio::test]
async fn a_rollback_during_the_write_wins_and_the_live_weights_come_back() {
    let c = FakeCloud::prepared().await;
    // A rollback claims the ledger right after each listener write lands.
    let ledger = c.ledger.clone();
    c.lb.after_each_write(move || {
        let mut l = ledger.get("live", "prod").expect("a ledger");
        if l.begin_rollback("alarm during shift", 4).unwrap() {
            assert!(ledger.put(&l));
        }
    });
    let err = handle(&c, &step(0, 10), 5).await.unwrap_err();
    c.assert_calls_within(shift_traffic::CALLS);
    assert_eq!(err.error_type, ErrorType::Aborted);
    assert_eq!(
        c.weights(),
        Weights::all_on(Colour::Blue),
        "the shift must undo its own write"
    );
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RollingBack
    );
}

#[tokio::test]
async fn the_sample_event_parses_and_runs() {
    let mut sample: Value =
        serde_json::from_str(include_str!("../../../events/shift-traffic.json")).unwrap();
    // The fake cloud knows live/prod and deployment d1; everything else is the sample's.
    sample["app"] = json!("live");
    sample["deploymentId"] = json!("d1");
    let c = FakeCloud::prepared().await;
    shift(&c, sample).await.unwrap();
    assert_eq!(c.weights(), Weights::new(90, 10).unwrap());
}
