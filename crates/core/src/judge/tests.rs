//! The pitfalls other judges hit, each guarded; each test names the guard it would fail without.

use super::analysis::{analyse, GroupSeries, ERROR_RATE, MEAN, P95, P99};
use super::*;
use crate::health::Verdict;
use crate::target::{HealthPolicy, JudgeSettings};
use proptest::prelude::*;

fn settings() -> JudgeSettings {
    JudgeSettings::default()
}

/// Deterministic noise in [-1, 1): tests must not depend on a random seed.
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 20_000) as f64 / 10_000.0 - 1.0
        })
        .collect()
}

fn around(centre: f64, spread: f64, n: usize, seed: u64) -> Vec<f64> {
    noise(n, seed)
        .into_iter()
        .map(|e| centre + spread * e)
        .collect()
}

#[test]
fn all_zero_errors_on_both_sides_pass_deliberately() {
    // Guard: all ties give p = 1, not NaN (a NaN p-value compares false either way).
    let r = classify(&settings(), &ERROR_RATE, &[0.0; 60], &[0.0; 60]);
    assert_eq!(r.class, Class::Pass);
    assert_eq!(r.p_value, Some(1.0));
    assert_eq!(r.effect, Some(0.0));
}

#[test]
fn rare_candidate_errors_among_zeros_fail() {
    // Guard: for zero-heavy samples the effect is the difference of means. The Hodges–Lehmann median
    // of pairwise differences is 0 here and would pass a candidate erring in a third of its periods.
    let mut c = vec![0.0; 40];
    c.extend([0.05; 20]);
    let r = classify(&settings(), &ERROR_RATE, &c, &[0.0; 60]);
    assert_eq!(hodges_lehmann_of(&c, &[0.0; 60]), 0.0);
    assert_eq!(r.class, Class::Fail, "{r:?}");
    assert!(r.p_value.unwrap() < 0.02);
}

fn hodges_lehmann_of(c: &[f64], b: &[f64]) -> f64 {
    stats::hodges_lehmann(c, b).unwrap()
}

#[test]
fn zero_baseline_mean_allows_the_metric_floor() {
    // Guard: min_effect. A relative tolerance of a zero baseline allows nothing, and a candidate at a
    // steady 0.1 % errors would fail against a baseline that happened to see none.
    let c = around(0.001, 0.0002, 60, 1);
    let r = classify(&settings(), &ERROR_RATE, &c, &[0.0; 60]);
    assert!(r.p_value.unwrap() < 0.02, "significant: {r:?}");
    assert_eq!(r.allowed, Some(ERROR_RATE.min_effect));
    assert_eq!(r.class, Class::Pass, "{r:?}");
}

#[test]
fn tiny_consistent_slowdown_within_tolerance_passes() {
    // Guard: the effect-size tolerance. 3 ms slower on 100 ms is significant with 60 samples a side,
    // and a p-value-only judge fails it.
    let b = around(100.0, 5.0, 60, 2);
    let c: Vec<f64> = around(100.0, 5.0, 60, 3).iter().map(|v| v + 3.0).collect();
    let r = classify(&settings(), &P95, &c, &b);
    assert!(r.p_value.unwrap() < 0.02, "significant: {r:?}");
    assert_eq!(r.class, Class::Pass, "{r:?}");
    let strict = JudgeSettings {
        tolerance: 0.0,
        ..settings()
    };
    let spec = MetricSpec {
        min_effect: 0.0,
        ..P95
    };
    assert_eq!(classify(&strict, &spec, &c, &b).class, Class::Fail);
}

#[test]
fn fewer_samples_than_the_minimum_are_no_data_then_unhealthy_at_the_deadline() {
    let j = judge(
        &settings(),
        &[(P95, around(900.0, 10.0, 4, 4), around(100.0, 5.0, 60, 5))],
    );
    assert_eq!(j.outcome, Outcome::NoData);
    assert_eq!(j.score, None);
    assert!(j.metrics[0].note.contains("5 samples"));
    let policy = policy(0);
    let mut cand = series(4, 100.0, 0.0, 100.0);
    cand.requests.values_mut().for_each(|v| *v = 1_000.0);
    let a = analyse(&policy, &cand, &series(60, 900.0, 1.0, 100.0));
    assert!(matches!(a.verdict, Verdict::Pending(_)), "{:?}", a.verdict);
    assert!(matches!(a.verdict.at_deadline(), Verdict::Unhealthy(_)));
}

#[test]
fn every_series_empty_is_never_healthy() {
    let empty = GroupSeries::default();
    let a = analyse(&policy(0), &empty, &empty);
    assert!(matches!(a.verdict, Verdict::Pending(_)), "{:?}", a.verdict);
    assert_eq!(a.score, None);
    let a = analyse(&policy(50), &empty, &empty);
    assert!(matches!(a.verdict, Verdict::Pending(_)));
    assert!(a.lines[0].contains("served 0,"), "{:?}", a.lines);
}

#[test]
fn a_failing_critical_metric_scores_zero() {
    let j = judge(
        &settings(),
        &[
            (P95, around(900.0, 50.0, 30, 6), around(120.0, 10.0, 30, 7)),
            (MEAN, around(50.0, 5.0, 30, 8), around(50.0, 5.0, 30, 9)),
        ],
    );
    assert_eq!(j.outcome, Outcome::Fail);
    assert_eq!(j.score, Some(0.0));
    assert!(j.metrics[0]
        .describe()
        .starts_with("p95-latency (critical): Fail"));
}

#[test]
fn a_failing_non_critical_metric_is_marginal() {
    let base = around(100.0, 5.0, 30, 10);
    let j = judge(
        &settings(),
        &[
            (ERROR_RATE, vec![0.0; 30], vec![0.0; 30]),
            (P95, base.clone(), base.clone()),
            (
                P99,
                around(400.0, 10.0, 30, 11),
                around(150.0, 10.0, 30, 12),
            ),
            (MEAN, base.clone(), base),
        ],
    );
    assert_eq!(j.score, Some(75.0));
    assert_eq!(j.outcome, Outcome::Marginal);
}

fn policy(min_requests: u64) -> HealthPolicy {
    HealthPolicy {
        max_5xx_rate: 0.02,
        max_p95_ms: 500.0,
        min_request_count: min_requests,
        period_seconds: 1,
        metric_delay_seconds: 0,
        verify_timeout_seconds: 30,
        max_failed_tasks: 3,
        judge: settings(),
    }
}

/// `n` one-second periods of `requests` each, a fixed 5XX share and latency around `p95`.
fn series(n: usize, requests: f64, error_share: f64, p95: f64) -> GroupSeries {
    let mut s = GroupSeries::default();
    let jitter = noise(n, p95 as u64);
    for (i, e) in jitter.iter().enumerate() {
        let t = 1_000 + i as i64;
        s.requests.insert(t, requests);
        if error_share > 0.0 {
            s.errors_5xx.insert(t, (requests * error_share).round());
        }
        s.p95_ms.insert(t, p95 * (1.0 + 0.05 * e));
        s.p99_ms.insert(t, 1.5 * p95 * (1.0 + 0.05 * e));
        s.mean_ms.insert(t, 0.5 * p95 * (1.0 + 0.05 * e));
    }
    s
}

#[test]
fn good_candidate_passes_with_full_score() {
    let a = analyse(
        &policy(50),
        &series(15, 50.0, 0.0, 120.0),
        &series(15, 450.0, 0.0, 121.0),
    );
    assert_eq!(a.verdict, Verdict::Healthy, "{:#?}", a.lines);
    assert_eq!(a.score, Some(100.0));
}

#[test]
fn bad_candidate_fails_thresholds_and_judge_naming_the_metrics() {
    let a = analyse(
        &policy(50),
        &series(15, 50.0, 0.08, 900.0),
        &series(15, 450.0, 0.001, 120.0),
    );
    let Verdict::Unhealthy(reasons) = &a.verdict else {
        panic!("{:?}", a.verdict)
    };
    let text = reasons.join("\n");
    assert!(
        text.contains("5xx-rate threshold: candidate 0.0800"),
        "{text}"
    );
    assert!(text.contains("p95 threshold"), "{text}");
    assert!(text.contains("p95-latency (critical): Fail"), "{text}");
    assert_eq!(a.score, Some(0.0));
}

#[test]
fn missing_5xx_datapoints_count_as_zero_errors_where_requests_were_served() {
    let mut s = GroupSeries::default();
    s.requests.insert(1, 10.0);
    s.requests.insert(2, 20.0);
    s.errors_5xx.insert(2, 2.0);
    assert_eq!(s.error_rates(), vec![0.0, 0.1]);
    assert_eq!(s.within(2, 3).total_requests(), 20.0);
}

proptest! {
    #[test]
    fn a_sample_never_fails_against_itself(v in proptest::collection::vec(0.0f64..1_000.0, 0..80)) {
        for spec in [ERROR_RATE, P95, P99, MEAN] {
            let r = classify(&settings(), &spec, &v, &v);
            prop_assert!(matches!(r.class, Class::Pass | Class::NoData), "{:?}", r);
        }
    }

    #[test]
    fn no_data_never_carries_a_score(
        c in proptest::collection::vec(0.0f64..10.0, 0..8),
        b in proptest::collection::vec(0.0f64..10.0, 0..8),
    ) {
        let j = judge(&settings(), &[(P95, c, b)]);
        prop_assert_eq!(j.outcome == Outcome::NoData, j.score.is_none());
    }
}

#[test]
fn outlier_fences_never_turn_enough_samples_into_no_data() {
    // Eight baseline periods with a tight IQR: the fences would keep five, fewer than the six the
    // policy needs, and a candidate at 850 ms would go unjudged (seen in the local cloud).
    let s = JudgeSettings {
        min_samples: 6,
        ..settings()
    };
    let baseline = [60.0, 114.0, 115.0, 115.0, 116.0, 116.0, 190.0, 200.0];
    assert_eq!(remove_outliers(&baseline).len(), 5);
    let candidate = around(850.0, 30.0, 8, 11);
    let r = classify(&s, &P95, &candidate, &baseline);
    assert_eq!(r.baseline_samples, 8, "{r:?}");
    assert_eq!(r.class, Class::Fail, "{r:?}");
}

#[test]
fn a_p99_of_fewer_than_a_hundred_requests_is_not_judged() {
    // Same latency; the baseline's small share makes its p99 look 30 % faster, as a period's
    // slowest of 50 requests does against the p99 of 500.
    let cand = series(15, 500.0, 0.0, 120.0);
    let mut base = series(15, 50.0, 0.0, 120.0);
    base.p99_ms.values_mut().for_each(|v| *v *= 0.7);
    let a = analyse(&policy(50), &cand, &base);
    assert_eq!(a.verdict, Verdict::Healthy, "{:#?}", a.lines);
    let metrics = a.judgement.unwrap().metrics;
    let p99 = metrics.iter().find(|m| m.name == "p99-latency").unwrap();
    assert_eq!((p99.candidate_samples, p99.baseline_samples), (15, 0));
    assert_eq!(a.score, Some(100.0), "the other three metrics decide");
}
