//! `make bench-cost`: what a deployment costs in Step Functions state transitions, per preset,
//! measured from real execution histories in the local cloud and carried over to AWS.
//!
//! Each preset is deployed once (waits compressed; bake slices are counted from the execution's own
//! state, so their number is AWS's). A transition is a state entered or a retry (AWS bills both).
//! Verify's `HealthPending` polls are the one part that depends on timing: locally the judge's data
//! arrives within seconds and polls run at 3 % of real time, so they are reported apart and replaced
//! by the AWS figure of `cutover_core::duration` (one poll every 10 s until the data is complete).

use aws_sdk_sfn::types::HistoryEventType as T;
use cutover_core::duration::{MetricTiming, VERIFY_POLL_SECONDS};
use cutover_core::Strategy;
use cutover_scenarios::{unique, LocalCloud};
use serde_json::json;
use std::collections::BTreeMap;

/// USD per state transition, Standard workflows, us-east-1 (AWS's pricing page: $0.025 per 1 000).
const PRICE: f64 = 0.025 / 1000.0;

#[derive(Default)]
struct Count {
    entered: u64,
    retries: BTreeMap<String, u64>,
    invocations: u64,
}

async fn count(c: &LocalCloud, arn: &str) -> Count {
    let (mut n, mut token) = (Count::default(), None);
    let mut state = String::new();
    let mut scheduled_in_state = 0u64;
    loop {
        let out = c
            .sfn
            .get_execution_history()
            .execution_arn(arn)
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .expect("GetExecutionHistory");
        for e in out.events() {
            let kind = e.r#type().as_str();
            if kind.ends_with("StateEntered") {
                n.entered += 1;
                state = e
                    .state_entered_event_details()
                    .map(|d| d.name().to_string())
                    .unwrap_or_default();
                scheduled_in_state = 0;
            } else if matches!(e.r#type(), T::TaskScheduled | T::LambdaFunctionScheduled) {
                n.invocations += 1;
                scheduled_in_state += 1;
                if scheduled_in_state > 1 {
                    *n.retries.entry(state.clone()).or_default() += 1;
                }
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return n,
        }
    }
}

#[tokio::main]
async fn main() {
    let c = LocalCloud::for_deployments().await;
    let aws = MetricTiming::AWS_DEFAULTS;
    println!(
        "| preset | states entered | retries (not Verify) | Verify polls here | Verify polls on AWS | \
         transitions on AWS | USD per deployment | Lambda invocations on AWS |"
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
        let local_polls = n.retries.get("Verify").copied().unwrap_or(0);
        let other: u64 = n.retries.values().sum::<u64>() - local_polls;
        let plan = Strategy::preset(preset).unwrap().plan();
        let aws_polls: u64 = plan
            .iter()
            .map(|s| (aws.step_seconds(s) - u64::from(s.bake_seconds)) / VERIFY_POLL_SECONDS)
            .sum();
        let transitions = n.entered + other + aws_polls;
        println!(
            "| `{preset}` | {} | {other} | {local_polls} | {aws_polls} | {transitions} | {:.4} | {} |",
            n.entered,
            transitions as f64 * PRICE,
            n.invocations - local_polls + aws_polls,
        );
    }
}
