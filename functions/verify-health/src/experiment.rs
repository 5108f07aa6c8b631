//! `phase: "experiment"`: the experiment's verdict and what it means for the traffic.
//!
//! The first call judges: the primary metric of each variant's target group, per period, from the
//! first whole period after the split was written to the last one CloudWatch has delivered, compared
//! by `cutover_core::experiment::compare`; the verdict goes into the ledger once. Every call answers a
//! decision: `promote` (the state machine shifts all traffic to the candidate and promotes it),
//! `keepControl` (it returns all traffic to the control), or `await` (the candidate won without
//! `autoPromote`: asked again after `waitSeconds` until `cutover experiment conclude` answers or the
//! wait for it, `remainingSeconds`, is over — then the control is kept). While it waits, each call
//! runs the bake's guards (`bake::fail_fast`): the split is still in production.

use crate::bake::seconds_if_given;
use crate::VerifyRequest;
use cutover_aws::{load_ledger, told, Cloud, Metrics, SeriesQuery, TargetSource};
use cutover_core::experiment::{compare, period_for, Decision};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};

pub async fn answer(
    cloud: &impl Cloud,
    req: &VerifyRequest,
    event: &Value,
    now_ms: u64,
) -> Result<Value, Failure> {
    let (app, env, id) = (
        req.at.app.as_str(),
        req.at.env.as_str(),
        req.at.deployment_id.as_str(),
    );
    let waited = seconds_if_given(event, "waitedSeconds")?.unwrap_or(0);
    let mut record = load_ledger(cloud.ledger(), app, env).await?;
    let d = record.active(id)?.clone();
    let experiment = d.experiment.clone().ok_or_else(|| {
        Failure::new(
            ErrorType::InvalidInput,
            format!("deployment {id} is not an experiment"),
        )
    })?;
    let remaining = seconds_if_given(event, "remainingSeconds")?
        .unwrap_or(u64::from(experiment.spec.conclude_within_seconds))
        .saturating_sub(waited);
    let experiment = match experiment.result {
        Some(_) => experiment,
        None => {
            let target = cloud.targets().target(app, env).await?;
            let result = judge(cloud.metrics(), &target, &d, now_ms).await?;
            tracing::info!(app, env, id, summary = result.summary, "experiment judged");
            told::record(cloud, app, env, None, |l| {
                l.record_experiment_verdict(id, result.clone(), now_ms)
            })
            .await?
            .0
        }
    };
    let decision = experiment.decide(remaining == 0);
    if experiment.decision != Some(decision) {
        told::record(cloud, app, env, None, |l| {
            l.record_experiment_decision(id, decision, now_ms)
        })
        .await?;
        tracing::info!(app, env, id, ?decision, "experiment decision");
    }
    let summary = experiment
        .result
        .as_ref()
        .map(|r| r.summary.clone())
        .unwrap_or_default();
    let wait = if decision == Decision::Await {
        // The split and its stickiness stay while a person decides: the bake's guards still run.
        crate::bake::fail_fast(cloud, req, &d, now_ms).await?;
        cutover_core::history::slice_seconds(remaining)
    } else {
        0
    };
    Ok(json!({
        "decision": decision,
        "summary": summary,
        "waitSeconds": wait,
        "remainingSeconds": remaining,
        "reason": format!("experiment concluded: {summary}; the control keeps all traffic"),
    }))
}

async fn judge<M: Metrics>(
    metrics: &M,
    target: &cutover_core::TargetConfig,
    d: &cutover_core::Deployment,
    now_ms: u64,
) -> Result<cutover_core::experiment::ExperimentResult, Failure> {
    let e = d.experiment.as_ref().expect("checked by the caller");
    let policy = &target.health_policy;
    let period = i64::from(period_for(e.spec.duration_seconds, policy.period_seconds));
    let split_at = d
        .shifts
        .iter()
        .find(|s| s.step_index == 0)
        .map_or(d.started_at_ms, |s| s.at_ms);
    // The split's own period is partly before it; the last periods may still be on their way.
    let from = (split_at as i64 / 1000).div_euclid(period) * period + period;
    let delivered = now_ms as i64 / 1000 - i64::from(policy.metric_delay_seconds);
    let to = delivered.div_euclid(period) * period;
    let groups = [
        crate::traffic::dimension(target.target_groups.get(d.candidate.other()))?,
        crate::traffic::dimension(target.target_groups.get(d.candidate))?,
    ];
    let series = if to > from {
        metrics
            .metric_series(&SeriesQuery {
                metric: e.spec.metric.clone(),
                target_groups: groups.to_vec(),
                start_s: from,
                end_s: to,
                period_s: period as u32,
            })
            .await?
    } else {
        vec![Default::default(), Default::default()]
    };
    let values = |i: usize| -> Vec<f64> {
        series
            .get(i)
            .map(|m| m.range(from..to).map(|(_, v)| *v).collect())
            .unwrap_or_default()
    };
    Ok(compare(
        &values(0),
        &values(1),
        e.spec.higher_is_better,
        e.spec.confidence,
        policy.judge.min_samples as usize,
    ))
}
