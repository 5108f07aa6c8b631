//! `phase: "bake"`: the bake loop's clock. The state machine waits in slices (30 s, or a 200th of what
//! is left of a long bake: `cutover_core::history`) and asks here between slices how much is left. The remaining time travels in the execution's state,
//! not in a wall clock, so a compressed Wait (the local cloud) compresses the bake alike. A person's
//! `cutover promote` sets the ledger's `skipBake` for the step; the next answer is then 0 left, and the
//! step goes on to its verification as usual.
//!
//! Each slice also reads what AWS reports in real time (`realtime.rs`): a candidate whose ECS rollout
//! FAILED or whose targets are unhealthy past their grace ends the bake as `HealthFailed`, with the
//! ledger `RollingBack`, within one slice. An experiment's bake (hours, not minutes) also checks the
//! health policy's thresholds (5XX rate, p95) on the candidate's traffic so far every slice: its
//! guards must not wait for the end of the duration, nor for an alarm alone. The judge's statistical
//! test is left to the step's verification (run every slice, it would call noise a failure).

use crate::{finish, realtime, VerifyRequest};
use cutover_aws::{load_ledger, Cloud, TargetSource};
use cutover_core::{invalid_field, DeploymentRef, Failure, Verdict};
use serde_json::{json, Value};

/// A whole number of seconds, when the event gives one (`null` counts as not given).
pub(crate) fn seconds_if_given(event: &Value, field: &str) -> Result<Option<u64>, Failure> {
    match event.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid_field(field, "must be a whole number of seconds")),
    }
}

fn seconds(event: &Value, field: &str) -> Result<u64, Failure> {
    seconds_if_given(event, field)?
        .ok_or_else(|| invalid_field(field, "must be a whole number of seconds"))
}

pub async fn answer(
    cloud: &impl Cloud,
    req: &VerifyRequest,
    event: &Value,
    now_ms: u64,
) -> Result<Value, Failure> {
    let at = DeploymentRef::from_event(event)?;
    // A step index past u32 must be refused, not wrapped onto step 0's bake.
    let step = u32::try_from(seconds(event, "stepIndex")?)
        .map_err(|_| invalid_field("stepIndex", "must be a step of the plan"))?;
    let remaining = seconds(event, "remainingSeconds")?;
    let waited = seconds(event, "waitedSeconds")?;
    let mut record = load_ledger(cloud.ledger(), &at.app, &at.env).await?;
    // A rolled-back deployment stops baking: Aborted, which ends the step.
    let d = record.active(&at.deployment_id)?.clone();
    fail_fast(cloud, req, &d, now_ms).await?;
    let skipped = d.skip_bake == Some(step);
    let left = if skipped {
        0
    } else {
        remaining.saturating_sub(waited)
    };
    if skipped && remaining > waited {
        tracing::warn!(
            app = at.app,
            env = at.env,
            id = at.deployment_id,
            step,
            left_on_paper = remaining - waited,
            "bake skipped by a person; verifying now"
        );
    }
    Ok(json!({
        "remainingSeconds": left,
        "waitSeconds": cutover_core::history::slice_seconds(left),
        "skipped": skipped,
    }))
}

/// End the bake now if AWS already says the candidate is unhealthy; pending is not a reason to stop.
/// An unhealthy verdict goes the way every verdict goes (`finish`): the ledger turns `RollingBack`
/// and the answer is `HealthFailed`.
pub(crate) async fn fail_fast(
    cloud: &impl Cloud,
    req: &VerifyRequest,
    d: &cutover_core::Deployment,
    now_ms: u64,
) -> Result<(), Failure> {
    let Some(release) = &d.release else {
        return Ok(());
    };
    let target = cloud.targets().target(&req.at.app, &req.at.env).await?;
    let mut checks = vec![
        realtime::service(cloud, &target, d, &release.task_definition_arn).await?,
        realtime::targets(cloud, &target, d, now_ms).await?,
    ];
    let mut lines = Vec::new();
    if d.experiment.is_some() && !d.shifts.is_empty() {
        let analysis = crate::traffic::analyse_traffic(cloud.metrics(), &target, d, now_ms).await?;
        if !analysis.breaches.is_empty() {
            checks.push(Verdict::Unhealthy(analysis.breaches.clone()));
        }
        lines = analysis.lines;
    }
    let verdict = Verdict::all(checks);
    if !matches!(verdict, Verdict::Unhealthy(_)) {
        return Ok(());
    }
    tracing::warn!(
        app = req.at.app,
        env = req.at.env,
        id = req.at.deployment_id,
        ?verdict,
        "unhealthy during the bake: rolling back now"
    );
    finish(cloud, req, d, verdict, None, lines, now_ms)
        .await
        .map(|_| ())
}
