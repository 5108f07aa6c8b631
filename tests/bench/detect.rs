//! `make bench-detect`: how long from the candidate's targets going away mid-bake to production
//! traffic back on the live colour, in the local cloud, over RUNS (default 3) deployments.
//!
//! Each run deploys a canary with a long bake (6 000 s, 3 minutes at the local cloud's 3 % waits),
//! waits out the targets' 60 s grace after the shift, then deregisters every target of the
//! candidate's group, as ECS does when its tasks die (moto cannot mark a target unhealthy; an empty
//! group is what the load balancer answers 503 for). The bake's next slice reads the targets, ends
//! the bake as unhealthy, and the state machine rolls back. Prints figures; asserts only that each
//! run rolled back.

use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use cutover_core::Weights;
use cutover_scenarios::{unique, LocalCloud};
use serde_json::json;
use std::time::{Duration, Instant};

/// A shift's targets may be unhealthy this long before they count (verify-health's grace).
const GRACE: Duration = Duration::from_secs(62);

async fn targets(c: &LocalCloud, group: &str) -> Vec<TargetDescription> {
    c.elbv2
        .describe_target_health()
        .target_group_arn(group)
        .send()
        .await
        .expect("DescribeTargetHealth")
        .target_health_descriptions()
        .iter()
        .filter_map(|d| d.target().cloned())
        .collect()
}

#[tokio::main]
async fn main() {
    let c = LocalCloud::for_deployments().await;
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let strategy =
        json!({"steps": [{"weight": 10, "bakeSeconds": 6000}, {"weight": 100, "bakeSeconds": 0}]});
    let mut figures = Vec::new();
    for run in 0..runs {
        let live = c.live_colour().await;
        let candidate = live.other();
        let group = c.seed["targetGroups"][candidate.as_str()]
            .as_str()
            .expect("seeded target group")
            .to_string();
        let id = unique(&format!("detect{run}-"));
        let image = format!("public.ecr.aws/live-event/service:{id}");
        let mut restored_after = None;
        let result = c
            .deploy(
                &id,
                &image,
                strategy.clone(),
                Some(Weights::with_candidate(candidate, 10)),
                || async {
                    tokio::time::sleep(GRACE).await;
                    let gone = targets(&c, &group).await;
                    c.elbv2
                        .deregister_targets()
                        .target_group_arn(&group)
                        .set_targets(Some(gone.clone()))
                        .send()
                        .await
                        .expect("DeregisterTargets");
                    let t = Instant::now();
                    while c.listener_weights().await != Weights::all_on(live) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    restored_after = Some(t.elapsed());
                    c.elbv2
                        .register_targets()
                        .target_group_arn(&group)
                        .set_targets(Some(gone))
                        .send()
                        .await
                        .expect("RegisterTargets");
                },
            )
            .await;
        let ledger = c.ledger().await.expect("a ledger");
        let status = ledger.deployment.as_ref().map(|d| d.status);
        assert_eq!(
            status,
            Some(cutover_core::Status::RolledBack),
            "run {run}: {:?} {:?}",
            result.error,
            result.cause
        );
        let took = restored_after.expect("the listener was restored");
        println!(
            "run {run}: targets deregistered -> listener 100 % {live:?}: {:.2} s ({})",
            took.as_secs_f64(),
            ledger.deployment.and_then(|d| d.reason).unwrap_or_default()
        );
        figures.push(took.as_secs_f64());
    }
    figures.sort_by(f64::total_cmp);
    println!(
        "detection -> traffic restored: min {:.2} s, median {:.2} s, max {:.2} s over {runs} runs \
         (bake slices of 30 s run at 3 %: 0.9 s here; on AWS a slice is 30 s)",
        figures[0],
        figures[figures.len() / 2],
        figures[figures.len() - 1]
    );
}
