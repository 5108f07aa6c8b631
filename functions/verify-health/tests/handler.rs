//! verify-health over in-memory ports: each check's verdict and the errorType it leaves with.

use cutover_aws::fakes::{Cloud, GREEN_TG};
use cutover_core::{Colour, ErrorType, Failure, Status, TargetHealth, Weights};
use serde_json::{json, Value};
use verify_health::{handle, Ports, TARGET_GRACE_MS};

/// Deployment d1: green started on td:2, shifted to 10 % at t=1000; two healthy targets; alarm OK.
async fn shifted() -> Cloud {
    let c = Cloud::prepared().await;
    c.edit_ledger(|l| {
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 1_000)
            .unwrap();
    })
    .await;
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

async fn verify(c: &Cloud, phase: &str, now_ms: u64) -> Result<Value, Failure> {
    let ports = Ports {
        lb: &c.lb,
        ledger: &c.ledger,
        targets: &c.targets,
        services: &c.services,
        alarms: &c.alarms,
    };
    handle(
        &ports,
        &json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": phase}),
        now_ms,
    )
    .await
}

#[tokio::test]
async fn a_settled_candidate_is_healthy_and_the_ledger_says_verifying() {
    let c = shifted().await;
    let out = verify(&c, "step", 2_000).await.unwrap();
    assert_eq!(out["verdict"], json!({"verdict": "Healthy"}));
    assert_eq!(c.ledger().deployment.unwrap().status, Status::Verifying);
}

#[tokio::test]
async fn an_alarm_in_alarm_fails_the_step_and_is_named() {
    let c = shifted().await;
    c.alarms.set("live-5xx", "ALARM");
    let err = verify(&c, "step", 2_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
    assert!(
        err.reason.contains("alarm live-5xx is ALARM"),
        "{}",
        err.reason
    );
    let d = c.ledger().deployment.unwrap();
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
        .ledger()
        .clone()
        .record_shift("d1", 1, Weights::all_on(Colour::Green), 3_000)
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
    let err = verify(&c, "stable", 2_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthPending);
    assert!(err.reason.contains("1/3 tasks running"), "{}", err.reason);
}

#[tokio::test]
async fn unhealthy_targets_are_pending_then_failed_after_the_grace_period() {
    let c = shifted().await;
    c.lb.health.lock().unwrap().get_mut(GREEN_TG).unwrap()[0].state = "unhealthy".into();
    assert_eq!(
        verify(&c, "step", 2_000).await.unwrap_err().error_type,
        ErrorType::HealthPending
    );
    let err = verify(&c, "step", 1_000 + TARGET_GRACE_MS)
        .await
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::HealthFailed);
}

#[tokio::test]
async fn no_targets_at_all_is_never_healthy() {
    let c = shifted().await;
    c.lb.health.lock().unwrap().clear();
    assert_eq!(
        verify(&c, "step", 10_000_000).await.unwrap_err().error_type,
        ErrorType::HealthPending
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
        verify(&c, "step", 2_000).await.unwrap_err().error_type,
        ErrorType::Aborted
    );
}

#[tokio::test]
async fn the_sample_event_parses() {
    let sample: Value =
        serde_json::from_str(include_str!("../../../events/verify-health.json")).unwrap();
    assert_eq!(
        verify_health::Request::from_event(&sample).unwrap().phase,
        verify_health::Phase::Step
    );
}
