//! An experiment's stickiness: on with its split, and back to what the listener had, in the same
//! write as the weights, when the winner takes everything.

use cutover_aws::fakes::{FakeCloud, LISTENER};
use cutover_core::experiment::{ExperimentRecord, ExperimentSpec};
use cutover_core::{Stickiness, Weights};
use serde_json::json;

fn step(i: u32, weight: u8) -> serde_json::Value {
    json!({"app": "live", "env": "prod", "deploymentId": "d1", "stepIndex": i, "weight": weight})
}

#[tokio::test]
async fn the_split_is_sticky_and_the_winners_shift_restores_the_listeners_stickiness() {
    let c = FakeCloud::prepared().await;
    let before = Stickiness {
        enabled: true,
        duration_seconds: Some(30),
    };
    c.set_stickiness(Some(before.clone()));
    let spec = ExperimentSpec::from_json(&json!({
        "split": 20, "durationSeconds": 7200, "metric": "N:M:Average", "stickinessSeconds": 3600
    }))
    .unwrap();
    c.edit_ledger(|l| {
        l.start_experiment("d1", ExperimentRecord::new(spec, Some(before.clone())))
            .unwrap();
    })
    .await;
    shift_traffic::handle(&c, &step(0, 20), 5).await.unwrap();
    let route = c.lb.route(LISTENER);
    assert_eq!(c.weights(), Weights::new(80, 20).unwrap());
    assert_eq!(
        route.stickiness,
        Some(Stickiness {
            enabled: true,
            duration_seconds: Some(3600)
        })
    );
    c.edit_ledger(|l| l.record_verifying("d1", 6).unwrap())
        .await;
    let writes = *c.lb.writes.lock().unwrap();
    shift_traffic::handle(&c, &step(1, 100), 7).await.unwrap();
    assert_eq!(
        *c.lb.writes.lock().unwrap(),
        writes + 1,
        "weights and stickiness in one write"
    );
    assert_eq!(c.weights(), Weights::new(0, 100).unwrap());
    assert_eq!(c.lb.route(LISTENER).stickiness, Some(before));
    c.assert_calls_within(shift_traffic::CALLS);
}

#[tokio::test]
async fn a_plain_deployment_keeps_whatever_stickiness_the_listener_has() {
    let c = FakeCloud::prepared().await;
    let before = Stickiness {
        enabled: true,
        duration_seconds: Some(30),
    };
    c.set_stickiness(Some(before.clone()));
    shift_traffic::handle(&c, &step(0, 10), 5).await.unwrap();
    assert_eq!(c.lb.route(LISTENER).stickiness, Some(before));
}
