//! finalize over in-memory ports: promotion needs the listener's agreement; scale-down only after it.

use cutover_aws::fakes::{FakeCloud, BLUE_TG};
use cutover_core::{Colour, ErrorType, Failure, Status, Weights};
use serde_json::{json, Value};

/// Deployment d1 shifted to 100 % green and verified.
async fn verified_at(green: u8) -> FakeCloud {
    let c = FakeCloud::prepared().await;
    c.edit_ledger(|l| {
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, green), 2)
            .unwrap();
        l.record_verifying("d1", 3).unwrap();
    })
    .await;
    c.set_weights(Weights::with_candidate(Colour::Green, green));
    c
}

async fn finalize(c: &FakeCloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    let out = finalize::handle(c, event, now_ms).await;
    c.assert_calls_within(finalize::CALLS);
    out
}

fn action(a: &str) -> Value {
    json!({"app": "live", "env": "prod", "deploymentId": "d1", "action": a})
}

#[tokio::test]
async fn promotes_then_scales_the_old_colour_down() {
    let c = verified_at(100).await;
    let out = finalize(&c, &action("promote"), 9).await.unwrap();
    assert_eq!(out["live"], "green");
    let l = c.stored_ledger();
    assert_eq!(
        (l.live_colour, l.deployment.unwrap().status),
        (Colour::Green, Status::Promoted)
    );
    assert_eq!(l.last_known_good.unwrap().task_definition_arn, "td:2");
    // Blue's weight went to 0 at 2 ms; its group drains for AWS's default 300 s.
    let early = finalize(&c, &action("scaleDown"), 10).await.unwrap();
    assert_eq!(early["waitSeconds"], 300);
    assert_eq!(early["deregistrationDelaySeconds"], 300);
    assert_eq!(c.services.get("svc-blue").desired, 3, "still draining");
    let out = finalize(&c, &action("scaleDown"), 300_002).await.unwrap();
    assert_eq!(
        (out["waitSeconds"].as_u64(), out["drainedMs"].as_u64()),
        (Some(0), Some(300_000))
    );
    assert_eq!(c.services.get("svc-blue").desired, 0);
    assert_eq!(
        c.services.get("svc-green").desired,
        0,
        "untouched by the fake's set-up"
    );
}

#[tokio::test]
async fn no_promotion_while_the_listener_disagrees() {
    let c = verified_at(100).await;
    c.set_weights(Weights::new(10, 90).unwrap());
    let err = finalize(&c, &action("promote"), 9).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::Verifying
    );
}

#[tokio::test]
async fn scale_down_waits_for_the_group_s_own_delay_and_for_a_listener_that_sends_it_nothing() {
    let c = verified_at(100).await;
    c.lb.deregistration_delays
        .lock()
        .unwrap()
        .insert(BLUE_TG.into(), 5);
    finalize(&c, &action("promote"), 9).await.unwrap();
    assert_eq!(
        finalize(&c, &action("scaleDown"), 4_000).await.unwrap()["waitSeconds"],
        2,
        "5 s after the shift at 2 ms, rounded up"
    );
    // Someone moved traffic back by hand: tasks that still get requests are not stopped.
    c.set_weights(Weights::new(1, 99).unwrap());
    let err = finalize(&c, &action("scaleDown"), 9_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(c.services.get("svc-blue").desired, 3);
    c.set_weights(Weights::all_on(Colour::Green));
    // The state machine's Wait spent the 2 s asked for (compressed, the clock says 100 ms).
    let mut after_wait = action("scaleDown");
    after_wait["waitedSeconds"] = json!(2);
    let out = finalize(&c, &after_wait, 4_100).await.unwrap();
    assert_eq!(out["scaledDown"], "svc-blue");
    assert_eq!(c.services.get("svc-blue").desired, 0);
    after_wait["waitedSeconds"] = json!(-1);
    let err = finalize(&c, &after_wait, 4_100).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
}

#[tokio::test]
async fn scale_down_refuses_before_promotion() {
    let c = verified_at(10).await;
    let err = finalize(&c, &action("scaleDown"), 9).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Aborted);
    assert_eq!(c.services.get("svc-blue").desired, 3);
}

#[tokio::test]
async fn unknown_actions_are_invalid_input() {
    let c = verified_at(100).await;
    let err = finalize(&c, &action("destroy"), 9).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
}

#[tokio::test]
async fn the_sample_event_parses() {
    let sample: Value =
        serde_json::from_str(include_str!("../../../events/finalize.json")).unwrap();
    assert_eq!(
        finalize::FinalizeRequest::from_event(&sample)
            .unwrap()
            .action,
        finalize::Action::Promote
    );
}

#[tokio::test]
async fn a_promotion_is_counted_told_and_archived_once_however_often_it_is_retried() {
    let c = verified_at(100).await;
    finalize(&c, &action("promote"), 9).await.unwrap();
    finalize(&c, &action("promote"), 11).await.unwrap();
    let t = &c.telemetry;
    // One final line with all three outcomes, so the success rate has every series it divides by.
    assert_eq!(t.values("DeploymentsPromoted", None), vec![(1.0, None)]);
    assert_eq!(t.values("DeploymentsRolledBack", None), vec![(0.0, None)]);
    assert_eq!(t.values("DeploymentsFailed", None), vec![(0.0, None)]);
    assert_eq!(
        t.values("DeploymentDurationMs", Some("Outcome")),
        vec![(8.0, Some("Promoted".into()))],
        "from the start at 1 ms to the promotion at 9 ms"
    );
    let to: Vec<String> = t.transitions().into_iter().map(|(_, to)| to).collect();
    assert_eq!(to, vec!["Promoting", "Promoted"]);
    let history = c.ledger.history.lock().unwrap();
    let kept: Vec<_> = history["live#prod"]
        .values()
        .map(|d| (d.id.as_str(), d.status))
        .collect();
    assert_eq!(kept, vec![("d1", Status::Promoted)]);
}
