//! The deploy state machine's history budget. Step Functions keeps at most 25 000 events per
//! execution, and one that needs more fails with `States.Runtime` outside any Catch: no rollback,
//! traffic left split. So bakes are sliced to a bounded number of Waits, and a plan whose worst case
//! cannot fit is refused by prepare, before the ledger is claimed or traffic moves.
//!
//! The count is an upper bound of the expected path, state by state as Step Functions records them:
//! a Task that succeeds is 5 events (entered, scheduled, started, succeeded, exited) and each failed
//! attempt before it 3 more; a Wait, Choice or Pass is 2; a Map iteration 2. `HealthPending` retries
//! are counted at their maximum; the headroom under the limit is for transient retries.

use crate::strategy::PlanStep;

/// Step Functions' limit on an execution's history.
pub const HISTORY_LIMIT: u64 = 25_000;
/// What a plan may use; the rest is headroom for `AwsTransient` and Lambda retries.
pub const PLAN_BUDGET: u64 = 20_000;
/// The shortest bake slice: how often a bake checks AWS and a person's `cutover promote`.
pub const MIN_SLICE_SECONDS: u64 = 30;
/// A long bake's slice is this fraction of what is left, so a slice count grows with the log of the
/// bake, not with it: 24 hours take 730 slices instead of 2 880.
const SLICE_DIVISOR: u64 = 200;

/// The next bake Wait with `left` seconds of bake to go.
pub fn slice_seconds(left: u64) -> u64 {
    left.min(MIN_SLICE_SECONDS.max(left.div_ceil(SLICE_DIVISOR)))
}

/// How many Waits a bake of `seconds` takes.
pub fn bake_slices(seconds: u64) -> u64 {
    let (mut left, mut n) = (seconds, 0);
    while left > 0 {
        left -= slice_seconds(left);
        n += 1;
    }
    n
}

const TASK: u64 = 5;
const RETRY: u64 = 3;
const PASS: u64 = 2;
/// `WaitForStable` and `Verify` retry `HealthPending` at most this often (deploy.asl.json).
const STABLE_RETRIES: u64 = 12;
const VERIFY_RETRIES: u64 = 120;

/// The most events a deployment of `plan` records on its expected path, rollback included.
pub fn deployment_events(plan: &[PlanStep]) -> u64 {
    // Execution start and end, Normalize, Prepare, WaitForStable with its retries, OpenTestRoute,
    // the two hook stages,
    // the Map's own events, Promote, TerminationWait, ScaleDown and Drained twice with one
    // DrainWait between (the first answer says how long is left), the final state; or Rollback and
    // its Fail.
    let drain = 2 * (TASK + PASS) + PASS;
    // Each hook stage: at most MAX_INVOCATIONS asks plus the last, each a Task, a Choice and a Wait
    // (a stage without a hook is one Task and its Choice, well within this).
    let hooks = 2 * (crate::target::hooks::MAX_INVOCATIONS + 1) * (TASK + PASS + PASS);
    let fixed = 2
        + PASS
        + TASK
        + TASK
        + STABLE_RETRIES * RETRY
        + TASK
        + hooks
        + 4
        + TASK
        + PASS
        + drain
        + PASS;
    let rollback = TASK + PASS;
    let steps: u64 = plan
        .iter()
        .map(|s| {
            let slices = bake_slices(u64::from(s.bake_seconds));
            // Iteration, Shift, Bake, each slice (Choice, Wait, BakeLeft), the last Choice, Verify.
            PASS + TASK
                + TASK
                + slices * (PASS + PASS + TASK)
                + PASS
                + TASK
                + VERIFY_RETRIES * RETRY
        })
        .sum();
    fixed + rollback + steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{Strategy, MAX_BAKE_SECONDS, MAX_STEPS};

    #[test]
    fn short_bakes_slice_every_30_s_and_long_ones_by_what_is_left() {
        assert_eq!(slice_seconds(300), 30);
        assert_eq!(slice_seconds(10), 10);
        assert_eq!(bake_slices(300), 10);
        assert_eq!(bake_slices(0), 0);
        assert_eq!(slice_seconds(86_400), 432);
        assert_eq!(bake_slices(86_400), 730);
    }

    #[test]
    fn a_day_long_bake_fits_the_history_and_a_hundred_of_them_do_not() {
        let day = Strategy::from_json(&serde_json::json!({"steps": [
            {"weight": 10, "bakeSeconds": MAX_BAKE_SECONDS}, {"weight": 100, "bakeSeconds": 0}
        ]}))
        .unwrap();
        let events = deployment_events(&day.plan());
        assert!(events < PLAN_BUDGET, "{events}");
        // With 30-second slices the same plan needed 2 880 slices of 9 events: over the limit.
        let fixed_slices = deployment_events(&day.plan()) + (2_880 - bake_slices(86_400)) * 9;
        assert!(fixed_slices > HISTORY_LIMIT, "{fixed_slices}");
        let steps: Vec<_> = (1..=MAX_STEPS as u8)
            .map(|w| serde_json::json!({"weight": w, "bakeSeconds": MAX_BAKE_SECONDS}))
            .collect();
        let long = Strategy::from_json(&serde_json::json!({ "steps": steps })).unwrap();
        assert!(deployment_events(&long.plan()) > HISTORY_LIMIT);
    }

    #[test]
    fn every_preset_fits() {
        for name in crate::strategy::PRESETS {
            let events = deployment_events(
                &Strategy::from_json(&serde_json::json!(name))
                    .unwrap()
                    .plan(),
            );
            assert!(events < PLAN_BUDGET / 4, "{name}: {events}");
        }
    }
}
