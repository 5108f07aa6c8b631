use super::*;
use crate::ledger::{Ledger, Release};
use crate::traffic::Weights;

fn verdict(step: u32, weight: u8, verdict: &str, at_ms: u64) -> VerdictRecord {
    VerdictRecord {
        step_index: Some(step),
        candidate_weight: weight,
        verdict: verdict.into(),
        score: Some(100.0),
        lines: vec!["5XX rate 0 %".into()],
        at_ms,
    }
}

fn release() -> Release {
    Release {
        task_definition_arn: "arn:aws:ecs:us-east-1:1:task-definition/live:2".into(),
        image: "img:2".into(),
    }
}

/// A Canary10Percent5Minutes deployment that promoted: 10 % at 2 s, verdict at 302 s, 100 % at 303 s.
fn promoted() -> Deployment {
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire("good", "img:2", None, 1_000).unwrap();
    l.set_release("good", release(), 1_500).unwrap();
    let green = |p| Weights::with_candidate(Colour::Green, p);
    l.record_shift("good", 0, green(10), 2_000).unwrap();
    l.record_verifying("good", 301_000).unwrap();
    l.record_verdict("good", verdict(0, 10, "Healthy", 302_000))
        .unwrap();
    l.record_shift("good", 1, green(100), 303_000).unwrap();
    l.record_verifying("good", 303_500).unwrap();
    l.record_verdict("good", verdict(1, 100, "Healthy", 304_000))
        .unwrap();
    l.promote("good", 305_000).unwrap();
    l.deployment.unwrap()
}

/// Rolled back at 10 % by an alarm that went off at 60 s, delivered at 61 s, restored at 61.2 s.
fn rolled_back() -> Deployment {
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire("bad", "img:3", None, 1_000).unwrap();
    l.set_release("bad", release(), 1_500).unwrap();
    l.record_shift("bad", 0, Weights::with_candidate(Colour::Green, 10), 2_000)
        .unwrap();
    l.claim_rollback("alarm 5xx", "alarm", Some("5xx"), 61_000)
        .unwrap();
    l.alarm_moment(60_000);
    l.traffic_restored(61_200);
    l.finish_rollback(62_000).unwrap();
    l.deployment.unwrap()
}

fn shares(t: &Timeline) -> Vec<(u64, u8)> {
    t.split
        .iter()
        .map(|p| (p.at_ms, p.candidate_percent))
        .collect()
}

#[test]
fn a_promoted_canary_steps_0_10_100_with_one_bake_per_step() {
    let t = Timeline::of(&promoted());
    assert_eq!(shares(&t), [(1_000, 0), (2_000, 10), (303_000, 100)]);
    assert_eq!(
        t.bakes,
        [
            BakeWindow {
                step_index: 0,
                candidate_percent: 10,
                from_ms: 2_000,
                to_ms: 302_000
            },
            BakeWindow {
                step_index: 1,
                candidate_percent: 100,
                from_ms: 303_000,
                to_ms: 304_000
            },
        ]
    );
    assert_eq!((t.status, t.ended_at_ms), (Status::Promoted, 305_000));
    assert_eq!(t.verdicts.len(), 2);
    assert!(t.rollback.is_none());
    assert_eq!(
        (t.share_at(1_999), t.share_at(2_000), t.share_at(400_000)),
        (0, 10, 100)
    );
}

#[test]
fn a_rollback_ends_the_bake_and_puts_the_share_back_to_0_when_traffic_is_restored() {
    let t = Timeline::of(&rolled_back());
    assert_eq!(shares(&t), [(1_000, 0), (2_000, 10), (61_200, 0)]);
    assert_eq!(t.bakes.len(), 1);
    assert_eq!((t.bakes[0].from_ms, t.bakes[0].to_ms), (2_000, 61_000));
    let r = t.rollback.unwrap();
    assert_eq!(
        (
            r.trigger.as_str(),
            r.alarm_at_ms,
            r.requested_at_ms,
            r.traffic_restored_at_ms
        ),
        ("alarm", Some(60_000), 61_000, Some(61_200))
    );
    assert_eq!(t.status, Status::RolledBack);
}

#[test]
fn the_summary_counts_outcomes_like_the_dashboard() {
    let s = Summary::of(&[promoted(), rolled_back()]);
    assert_eq!(
        (s.promoted, s.rolled_back, s.failed, s.in_flight),
        (1, 1, 0, 0)
    );
    assert_eq!(s.success_rate_percent, Some(50.0));
    // Durations 304 s and 61 s: the median of two is their mean.
    assert_eq!(s.median_duration_ms, Some(182_500));
    assert_eq!(
        (s.time_to_rollback_p50_ms, s.time_to_rollback_max_ms),
        (Some(200), Some(200))
    );
    let none = Summary::of(&[]);
    assert_eq!(
        (none.success_rate_percent, none.median_duration_ms),
        (None, None)
    );
}

#[test]
fn the_report_period_follows_what_cloudwatch_keeps() {
    let now = 100 * 86_400;
    let hour = 3_600;
    // Recent: the target's own period, even 1 s in the local cloud.
    assert_eq!(report_period(now - 600, now, now, 1), Some(1));
    assert_eq!(report_period(now - 600, now, now, 60), Some(60));
    // A long window is coarsened to at most 1 440 points, in whole minutes.
    assert_eq!(report_period(now - 2 * hour, now, now, 1), Some(60));
    // Older data: multiples of 60, 300, 3 600; nothing after 455 days.
    assert_eq!(
        report_period(now - 4 * hour, now - 3 * hour, now, 1),
        Some(60)
    );
    assert_eq!(
        report_period(now - 20 * 86_400, now - 19 * 86_400, now, 60),
        Some(300)
    );
    assert_eq!(
        report_period(now - 70 * 86_400, now - 69 * 86_400, now, 60),
        Some(3_600)
    );
    assert_eq!(report_period(0, 600, 456 * 86_400, 60), None);
    // A 10-day window at 60 s would be 14 400 points.
    let p = report_period(now - 10 * 86_400, now, now, 60).unwrap();
    assert!(p.is_multiple_of(60) && 10 * 86_400 / u64::from(p) <= MAX_POINTS_PER_SERIES);
}
