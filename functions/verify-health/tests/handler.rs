//! verify-health over in-memory ports: each check's verdict and the errorType it leaves with.

use cutover_aws::fakes::{steady_series, FakeCloud, BLUE_TG, GREEN_TG};
use cutover_core::{Colour, ErrorType, Failure, Status, TargetHealth, Weights};
use serde_json::{json, Value};
use verify_health::{handle, TARGET_GRACE_MS};

/// The shift to 10 % happens at t = 1000 s; verifications run 20 s later.
const SHIFT_MS: u64 = 1_000_000;
const AFTER_BAKE_MS: u64 = SHIFT_MS + 20_000;

/// Deployment d1: green started on td:2, shifted to 10 % at 1000 s; two healthy targets; alarm OK;
/// both colours served steady good traffic (green 50, blue 450 requests a second) since.
async fn shifted() -> FakeCloud {
    let c = FakeCloud::prepared().await;
    c.edit_ledger(|l| {
        l.record_shift(
            "d1",
            0,
            Weights::with_candidate(Colour::Green, 10),
            SHIFT_MS,
        )
        .unwrap();
    })
    .await;
    c.metrics
        .set(GREEN_TG, steady_series(1_000, 1_100, 50.0, 0.0, 120.0));
    c.metrics
        .set(BLUE_TG, steady_series(990, 1_100, 450.0, 0.001, 118.0));
    c.services.add("svc-green", "td:2", 3);
    let healthy = |ip: &str| TargetHealth {
        id: ip.into(),
        state: "healthy".into(),
    };
    c.lb.health.lock().unwrap().insert(
        GREEN_TG.into(),
        vec![healthy("10.0.1.1"), healthy("10.0.1.2")],
    );
    c.alarms.set("live-5xx", "OK");
    c
}

/// The handler on `event` at `now_ms`, held to the calls the function declares.
async fn run(c: &FakeCloud, event: Value, now_ms: u64) -> Result<Value, Failure> {
    let out = handle(c, &event, now_ms).await;
    c.assert_calls_within(verify_health::CALLS);
    out
}

async fn verify(c: &FakeCloud, phase: &str, now_ms: u64) -> Result<Value, Failure> {
    let event = json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": phase});
    run(c, event, now_ms).await
}

#[tokio::test]
async fn a_settled_candidate_is_healthy_and_its_verdict_is_recorded() {
    let c = shifted().await;
    let out = verify(&c, "step", AFTER_BAKE_MS).await.unwrap();
    assert_eq!(out["verdict"], json!({"verdict": "Healthy"}));
    assert_eq!(out["score"], json!(100.0));
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::Verifying);
    assert_eq!(d.verdicts.len(), 1);
    let v = &d.verdicts[0];
    assert_eq!(
        (v.step_index, v.candidate_weight, v.score),
        (Some(0), 10, Some(100.0))
    );
    assert!(
        v.lines[0].contains("candidate 1000..1020s at 10%"),
        "{:?}",
        v.lines
    );
    // One metrics query per verification, for both target groups.
    assert_eq!(c.metrics.queries.lock().unwrap().len(), 1);
    verify(&c, "step", AFTER_BAKE_MS + 1_000).await.unwrap();
    assert_eq!(
        c.stored_ledger().deployment.unwrap().verdicts.len(),
        1,
        "a retry replaces its record"
    );
}

#[tokio::test]
async fn periods_still_arriving_are_left_out_of_the_window() {
    let c = shifted().await;
    c.targets
        .edit("live#prod", |t| t.health_policy.metric_delay_seconds = 5);
    let out = verify(&c, "step", AFTER_BAKE_MS).await.unwrap();
    let lines = out["lines"].to_string();
    assert!(
        lines.contains("candidate 1000..1015s at 10%") && lines.contains("5s metric delay"),
        "{lines}"
    );
    assert_eq!(c.metrics.queries.lock().unwrap()[0].end_s, 1_015);
    // Right after the bake, with a delay longer than the bake, nothing is delivered yet: pending.
    c.targets
        .edit("live#prod", |t| t.health_policy.metric_delay_seconds = 25);
    let err = verify(&c, "step", AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthPending, "{}", err.reason);
}

#[tokio::test]
async fn a_bad_candidate_fails_on_its_traffic_naming_the_metrics() {
    let c = shifted().await;
    c.metrics
        .set(GREEN_TG, steady_series(1_000, 1_100, 50.0, 0.08, 900.0));
    let err = verify(&c, "step", AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
    for expected in [
        "5xx-rate threshold: candidate 0.0800",
        "p95-latency (critical): Fail",
        "score 0",
    ] {
        assert!(
            err.reason.contains(expected),
            "{expected} in {}",
            err.reason
        );
    }
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RollingBack);
    assert_eq!(d.verdicts[0].verdict, "Unhealthy");
    assert_eq!(d.verdicts[0].score, Some(0.0));
}

#[tokio::test]
async fn no_traffic_data_is_pending_then_failed_at_the_timeout() {
    let c = shifted().await;
    c.metrics.series.lock().unwrap().clear();
    let err = verify(&c, "step", AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthPending);
    assert!(err.reason.contains("candidate served 0"), "{}", err.reason);
    // The deadline counts from the first verification (AFTER_BAKE_MS), as the bake ended there.
    let err = verify(&c, "step", AFTER_BAKE_MS + 120_000)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
    assert!(
        err.reason.contains("verification deadline"),
        "{}",
        err.reason
    );
}

#[tokio::test]
async fn at_full_weight_the_baseline_is_the_live_colour_before_the_shift() {
    let c = shifted().await;
    c.edit_ledger(|l| {
        l.record_verifying("d1", SHIFT_MS + 29_000).unwrap();
        l.record_shift("d1", 1, Weights::all_on(Colour::Green), SHIFT_MS + 30_000)
            .unwrap();
    })
    .await;
    let out = verify(&c, "step", SHIFT_MS + 45_000).await.unwrap();
    assert_eq!(out["score"], json!(100.0), "{out}");
    let lines = out["lines"].to_string();
    assert!(
        lines.contains("candidate 1030..1045s at 100%, baseline 1000..1030s"),
        "{lines}"
    );
}

#[tokio::test]
async fn an_alarm_in_alarm_fails_the_step_and_is_named() {
    let c = shifted().await;
    c.alarms.set("live-5xx", "ALARM");
    let err = verify(&c, "step", AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
    assert!(
        err.reason.contains("alarm live-5xx is ALARM"),
        "{}",
        err.reason
    );
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(
        d.status,
        Status::RollingBack,
        "a failed verdict stops every later shift at once"
    );
    assert_eq!(
        d.reason.as_deref(),
        Some("HealthFailed: alarm live-5xx is ALARM")
    );
    let next = c
        .stored_ledger()
        .clone()
        .record_shift("d1", 1, Weights::all_on(Colour::Green), AFTER_BAKE_MS + 1)
        .unwrap_err();
    assert_eq!(next.error_type, ErrorType::Aborted);
}

#[tokio::test]
async fn an_ecs_rollout_in_progress_is_pending() {
    let c = shifted().await;
    c.services
        .services
        .lock()
        .unwrap()
        .get_mut("svc-green")
        .unwrap()
        .running = 1;
    let err = verify(&c, "stable", AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthPending);
    assert!(err.reason.contains("1/3 tasks running"), "{}", err.reason);
}

#[tokio::test]
async fn unhealthy_targets_are_pending_then_failed_after_the_grace_period() {
    let c = shifted().await;
    c.lb.health.lock().unwrap().get_mut(GREEN_TG).unwrap()[0].state = "unhealthy".into();
    assert_eq!(
        verify(&c, "step", AFTER_BAKE_MS)
            .await
            .unwrap_err()
            .error_type,
        ErrorType::HealthPending
    );
    let err = verify(&c, "step", SHIFT_MS + TARGET_GRACE_MS)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
}

#[tokio::test]
async fn no_targets_at_all_is_never_healthy() {
    let c = shifted().await;
    c.lb.health.lock().unwrap().clear();
    assert_eq!(
        verify(&c, "step", AFTER_BAKE_MS)
            .await
            .unwrap_err()
            .error_type,
        ErrorType::HealthPending
    );
    assert_eq!(
        verify(&c, "step", SHIFT_MS + 10_000_000)
            .await
            .unwrap_err()
            .error_type,
        ErrorType::HealthFailed
    );
}

#[tokio::test]
async fn a_rolled_back_deployment_is_aborted() {
    let c = shifted().await;
    c.edit_ledger(|l| {
        l.begin_rollback("manual", 5).unwrap();
    })
    .await;
    assert_eq!(
        verify(&c, "step", AFTER_BAKE_MS)
            .await
            .unwrap_err()
            .error_type,
        ErrorType::Aborted
    );
}

#[tokio::test]
async fn the_sample_event_parses() {
    let sample: Value =
        serde_json::from_str(include_str!("../../../events/verify-health.json")).unwrap();
    assert_eq!(
        verify_health::VerifyRequest::from_event(&sample)
            .unwrap()
            .phase,
        verify_health::Phase::Step
    );
    let bake: Value =
        serde_json::from_str(include_str!("../../../events/verify-health-bake.json")).unwrap();
    assert_eq!(
        verify_health::VerifyRequest::from_event(&bake)
            .unwrap()
            .phase,
        verify_health::Phase::Bake
    );
}

async fn bake(c: &FakeCloud, remaining: u64, waited: u64) -> Result<Value, Failure> {
    let event = json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": "bake",
        "stepIndex": 0, "remainingSeconds": remaining, "waitedSeconds": waited});
    run(c, event, AFTER_BAKE_MS).await
}

#[tokio::test]
async fn the_bake_counts_down_in_slices_until_a_person_skips_it() {
    let c = shifted().await;
    let first = bake(&c, 300, 0).await.unwrap();
    assert_eq!(
        first,
        json!({"remainingSeconds": 300, "waitSeconds": 30, "skipped": false})
    );
    let later = bake(&c, 300, 30).await.unwrap();
    assert_eq!(
        (
            later["remainingSeconds"].as_u64(),
            later["waitSeconds"].as_u64()
        ),
        (Some(270), Some(30))
    );
    assert_eq!(bake(&c, 10, 10).await.unwrap()["waitSeconds"], 0);
    c.edit_ledger(|l| {
        l.skip_bake(AFTER_BAKE_MS).unwrap();
    })
    .await;
    let skipped = bake(&c, 270, 30).await.unwrap();
    assert_eq!(
        skipped,
        json!({"remainingSeconds": 0, "waitSeconds": 0, "skipped": true})
    );
    c.edit_ledger(|l| {
        l.begin_rollback("alarm", AFTER_BAKE_MS).unwrap();
    })
    .await;
    assert_eq!(
        bake(&c, 270, 30).await.unwrap_err().error_type,
        ErrorType::Aborted
    );
}

#[tokio::test]
async fn a_step_index_past_u32_is_refused_not_wrapped_onto_step_0() {
    let c = shifted().await;
    // Step 0 is baking and a person skipped it: a wrapped index would answer "skipped".
    c.edit_ledger(|l| {
        l.skip_bake(AFTER_BAKE_MS).unwrap();
    })
    .await;
    let event = json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": "bake",
        "stepIndex": 1u64 << 32, "remainingSeconds": 270, "waitedSeconds": 30});
    let err = handle(&c, &event, AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(err.reason.starts_with("stepIndex"), "{}", err.reason);
}

#[tokio::test]
async fn the_deadline_counts_from_the_end_of_the_bake_not_the_shift() {
    // A 20-minute bake: the first verification starts long after the shift, with no traffic data
    // yet. The policy's 120 s must not be spent before the verification even began.
    let c = shifted().await;
    c.metrics.series.lock().unwrap().clear();
    let first = SHIFT_MS + 1_200_000;
    let err = verify(&c, "step", first).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthPending, "{}", err.reason);
    let err = verify(&c, "step", first + 119_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthPending, "{}", err.reason);
    let err = verify(&c, "step", first + 120_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed, "{}", err.reason);
}

/// A bake slice at `now_ms`, as the state machine asks between Waits.
async fn bake_at(c: &FakeCloud, now_ms: u64) -> Result<Value, Failure> {
    let event = json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": "bake",
        "stepIndex": 0, "remainingSeconds": 300, "waitedSeconds": 90});
    run(c, event, now_ms).await
}

/// With the candidate's targets as `targets`: the bake goes on within the grace after the shift,
/// and the first slice past it ends the bake as unhealthy, naming `why`, with the ledger RollingBack.
async fn bake_ends_past_the_grace(targets: Vec<TargetHealth>, why: &str) {
    let c = shifted().await;
    c.lb.health.lock().unwrap().insert(GREEN_TG.into(), targets);
    let early = bake_at(&c, SHIFT_MS + TARGET_GRACE_MS - 1).await.unwrap();
    assert_eq!(early["remainingSeconds"], 210);
    let err = bake_at(&c, SHIFT_MS + TARGET_GRACE_MS + 30_000)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed, "{}", err.reason);
    assert!(err.reason.contains(why), "{}", err.reason);
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RollingBack);
}

#[tokio::test]
async fn targets_unhealthy_past_their_grace_end_the_bake_within_one_slice() {
    let sick = |ip: &str| TargetHealth {
        id: ip.into(),
        state: "unhealthy".into(),
    };
    let targets = vec![sick("10.0.1.1"), sick("10.0.1.2")];
    bake_ends_past_the_grace(targets, "not healthy after the grace").await;
}

/// The candidate's tasks died and ECS deregistered them: its share of requests gets 503 from the
/// load balancer. Past the grace that ends the bake, as unhealthy targets do.
#[tokio::test]
async fn a_candidate_group_emptied_past_the_grace_ends_the_bake() {
    bake_ends_past_the_grace(vec![], "no targets registered after the grace").await;
}

#[tokio::test]
async fn a_failed_ecs_rollout_ends_the_bake_and_a_replaced_task_does_not() {
    let c = shifted().await;
    let set = |rollout: cutover_core::Rollout, failed: i32| {
        let mut services = c.services.services.lock().unwrap();
        let green = services.get_mut("svc-green").unwrap();
        (green.rollout, green.failed_tasks) = (rollout, failed);
    };
    // One task failed and ECS is replacing it: normal, the bake goes on.
    set(cutover_core::Rollout::InProgress, 1);
    bake_at(&c, AFTER_BAKE_MS).await.unwrap();
    set(cutover_core::Rollout::Failed, 1);
    let err = bake_at(&c, AFTER_BAKE_MS).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
    assert!(err.reason.contains("ECS rollout failed"), "{}", err.reason);
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RollingBack
    );
}
