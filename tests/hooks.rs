//! Lifecycle hooks in the local cloud: the seeded target runs the scripted hook
//! (local/hooks_scripted.py, cutover-hook-scripted) at beforeAllowTraffic with a 6 s timeout; its
//! answer follows the deployment id.

use cutover_core::target::HookStage;
use cutover_core::{Status, Weights};
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::json;

async fn deploy(c: &LocalCloud, id: &str) -> cutover_scenarios::Run {
    let image = format!("public.ecr.aws/live-event/service:{id}");
    c.deploy(
        id,
        &image,
        json!("Canary10Percent5Minutes"),
        None,
        || async {},
    )
    .await
}

#[tokio::test]
async fn a_failing_hook_rolls_back_before_any_production_weight() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let id = unique("hook-fail");
    let run = deploy(&c, &id).await;
    assert_eq!(run.status, "FAILED");
    assert_eq!(run.error.as_deref(), Some("HookFailed"), "{:?}", run.cause);
    assert_eq!(
        run.observed,
        vec![Weights::all_on(live)],
        "production never moved"
    );
    let d = c.ledger().await.unwrap().deployment.unwrap();
    assert_eq!((d.id.as_str(), d.status), (id.as_str(), Status::RolledBack));
    assert!(d.shifts.is_empty(), "{:?}", d.shifts);
    let reason = d.reason.unwrap_or_default();
    assert!(
        reason.contains("scripted failure at beforeAllowTraffic"),
        "{reason}"
    );
    assert_eq!(
        (d.hooks[0].status.as_str(), d.hooks[0].attempts),
        ("Failed", 1)
    );
    // The afterRollback hook was handed to Lambda once the rollback had finished.
    let after = d.hooks.iter().find(|h| h.stage == HookStage::AfterRollback);
    assert_eq!(
        after.map(|h| (h.function.as_str(), h.status.as_str())),
        Some(("cutover-hook-scripted", "Invoked")),
        "{:?}",
        d.hooks
    );
    assert_eq!(
        c.test_rules().await,
        Vec::<Vec<String>>::new(),
        "test route closed"
    );
}

#[tokio::test]
async fn a_hook_in_progress_twice_then_succeeded_lets_the_deployment_proceed() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let id = unique("hook-slow");
    let run = deploy(&c, &id).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?} {:?}", run.error, run.cause);
    let l = c.ledger().await.unwrap();
    let d = l.deployment.unwrap();
    assert_eq!((d.status, l.live_colour), (Status::Promoted, live.other()));
    let h = &d.hooks[0];
    assert_eq!((h.status.as_str(), h.attempts), ("Succeeded", 3));
    assert!(
        h.updated_at_ms <= d.shifts[0].at_ms,
        "the hook finished before the first production weight: {h:?} {:?}",
        d.shifts
    );
}

#[tokio::test]
async fn a_hook_that_never_answers_within_its_timeout_rolls_back() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let id = unique("hook-hang");
    let run = deploy(&c, &id).await;
    assert_eq!(run.error.as_deref(), Some("HookFailed"), "{:?}", run.cause);
    assert_eq!(
        run.observed,
        vec![Weights::all_on(live)],
        "production never moved"
    );
    let d = c.ledger().await.unwrap().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    let reason = d.reason.unwrap_or_default();
    assert!(reason.contains("within its timeout of 6 s"), "{reason}");
}
