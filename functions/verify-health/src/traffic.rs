//! The candidate's own traffic, judged: one metrics query for candidate and baseline, cut into their
//! windows (`cutover_core::windows`), then thresholds and the canary judge.

use cutover_aws::{Metrics, MetricsQuery};
use cutover_core::target::target_group_dimension;
use cutover_core::{analyse, windows, Analysis, Deployment, ErrorType, Failure, TargetConfig};
use serde_json::json;

pub(crate) fn dimension(arn: &str) -> Result<String, Failure> {
    target_group_dimension(arn)
        .map(String::from)
        .ok_or_else(|| {
            Failure::new(
                ErrorType::InvalidInput,
                format!("target group {arn} is not a target group ARN"),
            )
            .with_details(json!({ "field": "targetGroups" }))
        })
}

pub async fn analyse_traffic<M: Metrics>(
    metrics: &M,
    target: &TargetConfig,
    d: &Deployment,
    now_ms: u64,
) -> Result<Analysis, Failure> {
    let policy = &target.health_policy;
    let n = d.shifts.len();
    let shifted_at = d.shifts.last().map_or(d.started_at_ms, |s| s.at_ms);
    let previous = n.checked_sub(2).map(|i| d.shifts[i].at_ms);
    let candidate_weight = d.weights.of(d.candidate);
    // Periods whose datapoints may still be on their way are left for a later verification.
    let delivered_ms = now_ms.saturating_sub(u64::from(policy.metric_delay_seconds) * 1000);
    let (cw, bw) = windows(
        shifted_at,
        previous,
        candidate_weight,
        delivered_ms,
        policy.period_seconds,
    );
    let query = MetricsQuery {
        load_balancer: target.load_balancer.clone(),
        target_groups: vec![
            dimension(target.target_groups.get(d.candidate))?,
            dimension(target.target_groups.get(d.candidate.other()))?,
        ],
        start_s: cw.from.min(bw.from),
        end_s: cw.to.max(bw.to),
        period_s: policy.period_seconds,
    };
    let series = metrics.group_series(&query).await?;
    let (candidate, baseline) = match series.as_slice() {
        [c, b] => (c.within(cw.from, cw.to), b.within(bw.from, bw.to)),
        other => {
            return Err(Failure::new(
                ErrorType::AwsTransient,
                format!("metrics: expected 2 series sets, got {}", other.len()),
            ))
        }
    };
    let mut analysis = analyse(policy, &candidate, &baseline);
    analysis.lines.insert(
        0,
        format!(
            "windows: candidate {}..{}s at {candidate_weight}%, baseline {}..{}s ({}s periods, {}s metric delay)",
            cw.from, cw.to, bw.from, bw.to, policy.period_seconds, policy.metric_delay_seconds
        ),
    );
    Ok(analysis)
}
