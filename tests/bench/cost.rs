//! `make bench-cost`: what a deployment costs in Step Functions state transitions, per preset,
//! measured from real execution histories in the local cloud and carried over to AWS.
//!
//! Each preset is deployed once (waits compressed; bake slices are counted from the execution's own
//! state, so their number is AWS's). A transition is a state entered or a retry (AWS bills both).
//! A poll of `WaitForStable` and the Lambda retries count as the retries they are.
//! Verify's `HealthPending` polls are the one part that depends on timing: locally the judge's data
//! arrives within seconds and polls run at 3 % of real time, so they are reported apart and replaced
//! by the AWS figure of `cutover_core::duration` (one poll every 10 s until the data is complete).

use aws_sdk_sfn::types::HistoryEventType as T;
use cutover_core::duration::{MetricTiming, VERIFY_POLL_SECONDS};
use cutover_core::Strategy;
use cutover_scenarios::{unique, LocalCloud};
use serde_json::json;

/// USD per state transition, Standard workflows, us-east-1 (AWS's pricing page: $0.025 per 1 000).
const PRICE: f64 = 0.025 / 1000.0;

/// What one execution's history shows. ministack records the states inside the Map only as their
/// Task events (no Choice or Wait events), so those are counted from the bake answers: each bake
/// answer is followed by the `Baking` Choice, and by the `BakeSlice` Wait when time is left.
#[derive(Default)]
struct Count {
    /// States entered outside the Map, and retries there (`WaitForStable`'s).
    outer: u64,
    outer_retries: u64,
    /// Inside the Map: Shift and Bake/BakeLeft invocations, the Choices and Waits between them, and
    /// the successful Verify of each step.
    inner: u64,
    /// Verify's `HealthPending` answers here (replaced by the AWS figure).
    local_polls: u64,
    /// Other failed attempts inside the Map (Lambda retries, transient AWS errors).
    inner_retries: u64,
}

async fn count(c: &LocalCloud, arn: &str) -> Count {
    let mut n = Count::default();
    let (mut in_map, mut scheduled_here) = (false, 0u64);
    for e in c.history(arn).await {
        let kind = e.r#type().as_str();
        if kind == "MapStateEntered" {
            n.outer += 1;
            in_map = true;
        } else if kind == "MapStateExited" {
            in_map = false;
        } else if kind.ends_with("StateEntered") && !in_map {
            n.outer += 1;
            scheduled_here = 0;
        } else if matches!(e.r#type(), T::TaskScheduled) && !in_map {
            scheduled_here += 1;
            n.outer_retries += u64::from(scheduled_here > 1);
        } else if matches!(e.r#type(), T::TaskSucceeded) && in_map {
            let output = e
                .task_succeeded_event_details()
                .and_then(|d| d.output())
                .unwrap_or_default();
            let answer: serde_json::Value = serde_json::from_str(output).unwrap_or_default();
            n.inner += 1;
            if let Some(left) = answer["remainingSeconds"].as_u64() {
                n.inner += if left > 0 { 2 } else { 1 };
            }
        } else if matches!(e.r#type(), T::TaskFailed) && in_map {
            let error = e.task_failed_event_details().and_then(|d| d.error());
            if error == Some("HealthPending") {
                n.local_polls += 1;
            } else {
                n.inner_retries += 1;
            }
        }
    }
    n
}

#[tokio::main]
async fn main() {
    let c = LocalCloud::for_deployments().await;
    // A first step at 100 % (AllAtOnce) is judged against the live colour's traffic before it, as
    // long as the candidate's own window: the simulator has only just started.
    tokio::time::sleep(std::time::Duration::from_secs(40)).await;
    let aws = MetricTiming::AWS_DEFAULTS;
    println!(
        "| preset | outside the Map | inside the Map | retries | Verify polls here | Verify polls on AWS | \
         transitions on AWS | USD per deployment |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for preset in cutover_core::strategy::PRESETS {
        let id = unique("cost-");
        let image = format!("public.ecr.aws/live-event/service:{id}");
        let run = c
            .deploy(&id, &image, json!(preset), None, || async {})
            .await;
        assert_eq!(
            run.status, "SUCCEEDED",
            "{preset}: {:?} {:?}",
            run.error, run.cause
        );
        let n = count(&c, &run.arn).await;
        let plan = Strategy::preset(preset).unwrap().plan();
        let aws_polls: u64 = plan
            .iter()
            .map(|s| (aws.step_seconds(s) - u64::from(s.bake_seconds)) / VERIFY_POLL_SECONDS)
            .sum();
        let retries = n.outer_retries + n.inner_retries;
        let transitions = n.outer + n.inner + retries + aws_polls;
        println!(
            "| `{preset}` | {} | {} | {retries} | {} | {aws_polls} | {transitions} | {:.4} |",
            n.outer,
            n.inner,
            n.local_polls,
            transitions as f64 * PRICE,
        );
    }
}
