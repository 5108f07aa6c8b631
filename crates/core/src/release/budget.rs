//! The release execution's history budget. One execution holds every region's polling, and Step
//! Functions fails an execution outright at 25 000 history events (no Catch sees it), so the
//! release counts what it has spent — from its record alone, no extra write — and, well before the
//! limit, polls less often and then stops following regions with a reason that says so.
//!
//! Events, per the history of a Standard execution: a poll is a Wait (entered, exited), a Lambda
//! Task (entered, scheduled, started, succeeded, exited) and a Choice (entered, exited): 9. A
//! region's run adds its Map iteration, its start Task, a Choice and its end: 12. A wave adds the Map
//! state, the wave decision Task, a Choice, the bake Wait and a Pass: 15.

use super::ReleaseRecord;

pub const HISTORY_LIMIT: u64 = 25_000;
/// Past this the release stops following regions: what is left covers the wave decisions, the
/// reverts' starts and the finish of a release that stops.
pub const HISTORY_GUARD: u64 = 22_000;
pub const EVENTS_PER_POLL: u64 = 9;
pub const EVENTS_PER_RUN: u64 = 12;
pub const EVENTS_PER_WAVE: u64 = 15;

/// The wait before a run's next poll: a twentieth of its age, 10 s to 300 s; three times that (up to
/// 900 s) once half the budget is spent.
pub fn wait_seconds(elapsed_ms: u64, used: u64) -> u64 {
    let base = (elapsed_ms / 20_000).clamp(10, 300);
    if used > HISTORY_LIMIT / 2 {
        (base * 3).min(900)
    } else {
        base
    }
}

/// The polls a run has made by `elapsed_ms` at the unslowed waits: at least as many as it made.
pub fn polls(elapsed_ms: u64) -> u64 {
    let (mut t, mut n) = (0u64, 0u64);
    while t < elapsed_ms {
        t += wait_seconds(t, 0) * 1000;
        n += 1;
    }
    n
}

/// What the release's execution has written to its history by `now`, at most.
pub fn events_used(r: &ReleaseRecord, now: u64) -> u64 {
    let runs: u64 = r
        .regions
        .iter()
        .flat_map(|g| std::iter::once(&g.deploy).chain(g.revert.as_ref()))
        .map(|run| {
            let end = run.ended_at_ms.unwrap_or(now);
            EVENTS_PER_RUN + EVENTS_PER_POLL * polls(end.saturating_sub(run.started_at_ms))
        })
        .sum();
    EVENTS_PER_WAVE * (r.wave as u64 + 1) + runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::ReleasePlan;
    use serde_json::json;

    #[test]
    fn polls_grow_with_the_log_of_a_runs_age_then_every_five_minutes() {
        assert_eq!(polls(0), 0);
        assert_eq!(polls(100_000), 10, "every 10 s at first");
        let hour = polls(3_600_000);
        let day = polls(86_400_000);
        assert!((60..=100).contains(&hour), "{hour}");
        assert!((330..=400).contains(&day), "{day}");
        assert_eq!(wait_seconds(86_400_000, 0), 300);
        assert_eq!(wait_seconds(86_400_000, 13_000), 900);
        assert_eq!(wait_seconds(0, 13_000), 30);
    }

    #[test]
    fn a_release_counts_every_runs_polls_and_its_waves() {
        let known: Vec<String> = (0..10).map(|i| format!("us-east-{}", i + 1)).collect();
        let plan = ReleasePlan::from_json(&json!({ "waves": [known.clone()] }), &known).unwrap();
        let mut r = ReleaseRecord::new("a", "e", "r1", "img", plan, 0);
        assert_eq!(events_used(&r, 0), EVENTS_PER_WAVE);
        for region in &known {
            r.begin_region(region, None, 0);
        }
        // Ten regions deploying for a day each in one wave: past the guard, under the limit.
        let day = events_used(&r, 86_400_000);
        assert!(day > HISTORY_GUARD && day < 40_000, "{day}");
        let hour = events_used(&r, 3_600_000);
        assert!(hour < HISTORY_LIMIT / 2, "{hour}");
    }
}
