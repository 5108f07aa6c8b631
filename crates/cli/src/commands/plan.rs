//! `cutover plan`: the steps a strategy expands to, with when each starts, how long each takes on AWS
//! with the default health policy (`cutover_core::duration`), and how much of Step Functions'
//! history its execution can use (prepare refuses a plan over the budget). No AWS call.

use crate::args::strategy_value;
use crate::outcome::Outcome;
use cutover_core::duration::MetricTiming;
use cutover_core::Strategy;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    strategy: String,
}

pub fn run(args: Args) -> Result<Outcome, String> {
    let value = strategy_value(&args.strategy)?;
    let strategy = Strategy::from_json(&value).map_err(|e| e.to_string())?;
    let aws = MetricTiming::AWS_DEFAULTS;
    let (mut elapsed, mut on_aws) = (0u64, 0u64);
    for (i, step) in strategy.plan().iter().enumerate() {
        println!(
            "step {:>2}: candidate {:>3}%  bake {:>5} s  (t+{} s; on AWS verified by t+{} s)",
            i + 1,
            step.weight,
            step.bake_seconds,
            elapsed,
            on_aws + aws.step_seconds(step)
        );
        elapsed += u64::from(step.bake_seconds);
        on_aws += aws.step_seconds(step);
    }
    println!(
        "on AWS: about {} min from the first shift to promote, at the latest: each step waits for \
         {} whole {} s periods of the candidate and {} s of metric delay",
        on_aws.div_ceil(60),
        aws.min_samples,
        aws.period_s,
        aws.delay_s
    );
    let events = cutover_core::history::deployment_events(&strategy.plan());
    println!(
        "history: at most {events} events of Step Functions' {} (Cutover's budget {}){}",
        cutover_core::history::HISTORY_LIMIT,
        cutover_core::history::PLAN_BUDGET,
        if events > cutover_core::history::PLAN_BUDGET {
            ": prepare refuses this plan"
        } else {
            ""
        }
    );
    Ok(Outcome::Done)
}
