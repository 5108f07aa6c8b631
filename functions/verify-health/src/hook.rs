//! `phase: "hook"`: run the target configuration's lifecycle hook for `stage` (docs/hooks.md).
//!
//! Each call invokes the hook once, records its answer in the ledger and answers `waitSeconds`: 0
//! when the deployment goes on (the hook succeeded, or there is none), more to be asked again after
//! that Wait. A hook that answers Failed, or has not succeeded when its timeout (counted from the
//! stage's first invocation, kept in the ledger) has passed, fails with `HookFailed`, after the
//! ledger turned `RollingBack` with the hook's reason; the state machine then rolls back.

use cutover_aws::{told, Cloud, HookCall, Hooks, TargetSource};
use cutover_core::target::hooks::{decide, Answer, Next};
use cutover_core::target::HookStage;
use cutover_core::{invalid_field, DeploymentRef, ErrorType, Failure};
use serde_json::{json, Value};
use std::time::Duration;

/// The longest one invocation is waited for: the function's own timeout (30 s) must leave room for
/// the ledger writes around it. A hook that needs longer answers InProgress and is asked again.
pub const MAX_INVOCATION_WAIT: Duration = Duration::from_secs(20);

pub async fn run(cloud: &impl Cloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    let at = DeploymentRef::from_event(event)?;
    let stage = event
        .get("stage")
        .and_then(Value::as_str)
        .and_then(HookStage::parse)
        // afterRollback is the rollback function's to invoke, once the rollback has finished.
        .filter(|s| *s != HookStage::AfterRollback)
        .ok_or_else(|| invalid_field("stage", "must be beforeAllowTraffic or afterAllowTraffic"))?;
    let (app, env, id) = (at.app.as_str(), at.env.as_str(), at.deployment_id.as_str());
    let target = cloud.targets().target(app, env).await?;
    let Some(hook) = target.hooks.get(stage).cloned() else {
        return Ok(json!({ "stage": stage, "hook": null, "waitSeconds": 0 }));
    };
    let mut record = cutover_aws::load_ledger(cloud.ledger(), app, env).await?;
    let d = record.active(id)?.clone();
    let (started, attempts) = record.hook_started(stage).unwrap_or((now_ms, 0));
    if let Some(h) = d.hooks.iter().find(|h| h.stage == stage) {
        if h.status == "Succeeded" {
            return Ok(json!({ "stage": stage, "hook": hook.function, "waitSeconds": 0 }));
        }
    }
    let deadline = started + hook.timeout_seconds * 1_000;
    let left = Duration::from_millis(deadline.saturating_sub(now_ms));
    let within = left.min(MAX_INVOCATION_WAIT).max(Duration::from_secs(1));
    let payload = json!({
        "app": app,
        "env": env,
        "deploymentId": id,
        "image": d.image,
        "candidateColour": d.candidate,
        "testEndpoint": target.hooks.test_endpoint,
        "stage": stage,
        "attempt": attempts + 1,
    });
    // Past the deadline an unfinished hook has failed: it is not invoked once more.
    let asked = std::time::Instant::now();
    let call = if attempts > 0 && now_ms >= deadline {
        HookCall::NoAnswer
    } else {
        cloud
            .hooks()
            .invoke(&hook.function, &payload, within)
            .await?
    };
    let answer = match &call {
        HookCall::Answered(v) => Some(Answer::parse(v)),
        HookCall::FunctionError(e) => Some(Answer::Failed(format!("the hook raised {e}"))),
        HookCall::NoAnswer => None,
    };
    // An answer that came after the deadline is too late, whatever it says.
    let answered_at = now_ms + asked.elapsed().as_millis() as u64;
    let next = decide(&hook, answer.as_ref(), started, answered_at);
    let (status, reason) = match (&next, &answer) {
        (Next::Proceed, _) => ("Succeeded", None),
        (Next::Fail(r), _) => ("Failed", Some(r.clone())),
        (Next::Wait(_), None) => ("NoAnswer", None),
        (Next::Wait(_), Some(_)) => ("InProgress", None),
    };
    let why = reason
        .as_ref()
        .map(|r| format!("HookFailed: {} hook: {r}", stage.as_str()));
    // A failure turns the ledger RollingBack in the same write, before the state machine reacts
    // (as a failed verification does): nothing moves production traffic toward the candidate again.
    told::record(cloud, app, env, None, |l| {
        l.record_hook(id, stage, &hook.function, status, reason.clone(), now_ms)?;
        match &why {
            Some(why) => l.begin_rollback(why, now_ms).map(|_| ()),
            None => Ok(()),
        }
    })
    .await?;
    match next {
        Next::Proceed => {
            tracing::info!(
                app,
                env,
                id,
                stage = stage.as_str(),
                hook = hook.function,
                attempt = attempts + 1,
                "hook succeeded"
            );
            Ok(json!({ "stage": stage, "hook": hook.function, "waitSeconds": 0 }))
        }
        Next::Wait(s) => {
            tracing::info!(
                app,
                env,
                id,
                stage = stage.as_str(),
                hook = hook.function,
                attempt = attempts + 1,
                status,
                wait_s = s,
                "hook not done yet"
            );
            Ok(json!({ "stage": stage, "hook": hook.function, "status": status, "waitSeconds": s }))
        }
        Next::Fail(reason) => {
            tracing::warn!(
                app,
                env,
                id,
                stage = stage.as_str(),
                hook = hook.function,
                attempt = attempts + 1,
                reason,
                "hook failed; rolling back"
            );
            Err(Failure::new(
                ErrorType::HookFailed,
                format!("{} hook: {reason}", stage.as_str()),
            )
            .with_details(json!({ "stage": stage, "hook": hook.function })))
        }
    }
}
