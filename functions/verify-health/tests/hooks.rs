//! phase hook over in-memory ports: the ledger's record of each answer, the waits asked for, and
//! a failure or a timeout leaving the deployment RollingBack with the hook's reason.

use cutover_aws::fakes::FakeCloud;
use cutover_aws::HookCall;
use cutover_core::target::Hook;
use cutover_core::{ErrorType, Failure, Status};
use serde_json::{json, Value};

/// d1 prepared; its target has a beforeAllowTraffic hook with a 120 s timeout.
async fn with_hook() -> FakeCloud {
    let c = FakeCloud::prepared().await;
    c.targets.edit("live#prod", |t| {
        t.hooks.before_allow_traffic = Some(Hook {
            function: "cutover-hook-smoke".into(),
            timeout_seconds: 120,
        });
        t.hooks.test_endpoint = Some("http://alb.example.com:8081".into());
    });
    c
}

async fn hook(c: &FakeCloud, stage: &str, now_ms: u64) -> Result<Value, Failure> {
    let event = json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": "hook", "stage": stage});
    let out = verify_health::handle(c, &event, now_ms).await;
    c.assert_calls_within(verify_health::CALLS);
    out
}

#[tokio::test]
async fn a_stage_without_a_hook_goes_on_without_invoking_anything() {
    let c = with_hook().await;
    let out = hook(&c, "afterAllowTraffic", 10).await.unwrap();
    assert_eq!(out["waitSeconds"], 0);
    assert!(c.hooks.invocations().is_empty());
}

#[tokio::test]
async fn in_progress_twice_then_succeeded_waits_as_asked_and_records_each_answer() {
    let c = with_hook().await;
    c.hooks.answer(HookCall::Answered(
        json!({"status": "InProgress", "retryAfterSeconds": 5}),
    ));
    c.hooks.answer(HookCall::Answered(
        json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 7}),
    ));
    c.hooks
        .answer(HookCall::Answered(json!({"status": "Succeeded"})));
    assert_eq!(
        hook(&c, "beforeAllowTraffic", 1_000).await.unwrap()["waitSeconds"],
        5
    );
    assert_eq!(
        hook(&c, "beforeAllowTraffic", 6_000).await.unwrap()["waitSeconds"],
        7
    );
    assert_eq!(
        hook(&c, "beforeAllowTraffic", 13_000).await.unwrap()["waitSeconds"],
        0
    );
    // A retried call after success invokes nothing more.
    assert_eq!(
        hook(&c, "beforeAllowTraffic", 14_000).await.unwrap()["waitSeconds"],
        0
    );
    let calls = c.hooks.invocations();
    assert_eq!(calls.len(), 3);
    let (function, payload, _) = &calls[2];
    assert_eq!(function, "cutover-hook-smoke");
    assert_eq!(
        payload,
        &json!({"app": "live", "env": "prod", "deploymentId": "d1", "image": "live:2",
                "candidateColour": "green", "testEndpoint": "http://alb.example.com:8081",
                "stage": "beforeAllowTraffic", "attempt": 3})
    );
    let d = c.stored_ledger().deployment.unwrap();
    let h = &d.hooks[0];
    assert_eq!(
        (
            h.status.as_str(),
            h.attempts,
            h.started_at_ms,
            h.updated_at_ms
        ),
        ("Succeeded", 3, 1_000, 13_000)
    );
    assert_eq!(d.status, Status::Preparing);
}

#[tokio::test]
async fn a_failed_answer_rolls_back_with_the_hook_s_reason() {
    let c = with_hook().await;
    c.hooks.answer(HookCall::Answered(
        json!({"status": "Failed", "reason": "GET /health on the test port gave 503"}),
    ));
    let err = hook(&c, "beforeAllowTraffic", 1_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HookFailed);
    assert!(err.reason.contains("gave 503"), "{}", err.reason);
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RollingBack);
    assert!(
        d.reason
            .as_deref()
            .unwrap()
            .contains("beforeAllowTraffic hook")
            && d.reason.as_deref().unwrap().contains("gave 503"),
        "{:?}",
        d.reason
    );
    assert_eq!(d.hooks[0].status, "Failed");
}

#[tokio::test]
async fn a_hook_that_never_answers_fails_at_its_timeout_and_a_crash_fails_at_once() {
    let c = with_hook().await;
    c.hooks.answer(HookCall::NoAnswer);
    let first = hook(&c, "beforeAllowTraffic", 1_000).await.unwrap();
    assert_eq!(first["waitSeconds"], 4, "120 s over at most 30 invocations");
    assert_eq!(first["status"], "NoAnswer");
    let (_, _, within) = c.hooks.invocations()[0].clone();
    assert_eq!(within.as_secs(), 20, "one invocation waits at most 20 s");
    let err = hook(&c, "beforeAllowTraffic", 121_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::HookFailed);
    assert!(
        err.reason.contains("within its timeout of 120 s"),
        "{}",
        err.reason
    );
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RollingBack
    );

    let c = with_hook().await;
    c.hooks
        .answer(HookCall::FunctionError("Runtime.ExitError: exited".into()));
    let err = hook(&c, "beforeAllowTraffic", 1_000).await.unwrap_err();
    assert!(
        err.reason.contains("the hook raised Runtime.ExitError"),
        "{}",
        err.reason
    );
}

#[tokio::test]
async fn an_unknown_stage_is_invalid_input_before_anything_runs() {
    let c = with_hook().await;
    let err = hook(&c, "afterRollback", 1_000).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(c.hooks.invocations().is_empty());
}

#[test]
fn the_sample_event_is_a_hook_call() {
    let sample: Value =
        serde_json::from_str(include_str!("../../../events/verify-health-hook.json")).unwrap();
    let req = verify_health::VerifyRequest::from_event(&sample).unwrap();
    assert_eq!(req.phase, verify_health::Phase::Hook);
}
