//! What AWS reports about the candidate in real time, as opposed to its metrics (a minute late at
//! best): its ECS deployment and its targets. The step's verification reads them, and so does every
//! bake slice, so a FAILED rollout or targets unhealthy past their grace end the bake within one slice
//! instead of waiting for a metric alarm.

use crate::TARGET_GRACE_MS;
use cutover_aws::{Cloud, LoadBalancer, Services};
use cutover_core::{targets_verdict, Deployment, Failure, TargetConfig, Verdict};

/// The candidate's ECS deployment, judged as ECS judges it, with the policy's failed-task tolerance.
pub(crate) async fn service(
    cloud: &impl Cloud,
    target: &TargetConfig,
    d: &Deployment,
    expected_task_definition: &str,
) -> Result<Verdict, Failure> {
    let service = cloud
        .services()
        .service(&target.cluster, target.services.get(d.candidate))
        .await?;
    Ok(service.stability_within(
        expected_task_definition,
        target.health_policy.max_failed_tasks,
    ))
}

/// The candidate's targets; unhealthy ones within the grace after the shift are still settling.
pub(crate) async fn targets(
    cloud: &impl Cloud,
    target: &TargetConfig,
    d: &Deployment,
    now_ms: u64,
) -> Result<Verdict, Failure> {
    let shifted_at = d.shifts.last().map_or(d.started_at_ms, |s| s.at_ms);
    let health = cloud
        .lb()
        .target_health(target.target_groups.get(d.candidate))
        .await?;
    Ok(targets_verdict(
        &format!("{} target group", d.candidate),
        &health,
        now_ms.saturating_sub(shifted_at) >= TARGET_GRACE_MS,
    ))
}
