//! From a target group's CloudWatch series to a verdict: the health policy's thresholds first (enough
//! requests, 5XX rate, p95), then the canary judge against the baseline.

use super::{judge, Direction, Judgement, MetricSpec, Outcome};
use crate::health::Verdict;
use crate::target::HealthPolicy;
use serde::Serialize;
use std::collections::BTreeMap;

/// One target group's ALB metrics, each keyed by the start of its period (epoch seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSeries {
    pub requests: BTreeMap<i64, f64>,
    pub errors_5xx: BTreeMap<i64, f64>,
    pub p95_ms: BTreeMap<i64, f64>,
    pub p99_ms: BTreeMap<i64, f64>,
    pub mean_ms: BTreeMap<i64, f64>,
}

fn slice(m: &BTreeMap<i64, f64>, from: i64, to: i64) -> BTreeMap<i64, f64> {
    m.range(from..to).map(|(k, v)| (*k, *v)).collect()
}

impl GroupSeries {
    /// The periods starting in `[from, to)`.
    pub fn within(&self, from: i64, to: i64) -> GroupSeries {
        GroupSeries {
            requests: slice(&self.requests, from, to),
            errors_5xx: slice(&self.errors_5xx, from, to),
            p95_ms: slice(&self.p95_ms, from, to),
            p99_ms: slice(&self.p99_ms, from, to),
            mean_ms: slice(&self.mean_ms, from, to),
        }
    }

    pub fn total_requests(&self) -> f64 {
        // `sum()` of no f64s is -0.0, which prints as "-0".
        self.requests.values().fold(0.0, |a, b| a + b)
    }

    /// 5XX share per period that served requests. ALB publishes no 5XX datapoint for a period without
    /// errors, so a missing one there is 0, not missing data.
    pub fn error_rates(&self) -> Vec<f64> {
        self.requests
            .iter()
            .filter(|(_, n)| **n > 0.0)
            .map(|(t, n)| self.errors_5xx.get(t).copied().unwrap_or(0.0) / n)
            .collect()
    }

    pub fn total_error_rate(&self) -> Option<f64> {
        let n = self.total_requests();
        (n > 0.0).then(|| self.errors_5xx.values().sum::<f64>() / n)
    }

    fn values(m: &BTreeMap<i64, f64>) -> Vec<f64> {
        m.values().copied().collect()
    }

    /// The p99 of each period that served at least [`P99_MIN_REQUESTS`]: below that a p99 is the
    /// period's slowest request, which is lower the fewer requests there were, so a side at a small
    /// share would look faster than one at a large share with the same latency (a linear rollout's
    /// 10 % baseline against its 100 % candidate failed a good release that way).
    fn p99_values(&self) -> Vec<f64> {
        self.p99_ms
            .iter()
            .filter(|(t, _)| self.requests.get(t).is_some_and(|n| *n >= P99_MIN_REQUESTS))
            .map(|(_, v)| *v)
            .collect()
    }
}

/// Requests a period needs before its p99 means more than its maximum (1 / (1 − 0.99)).
pub const P99_MIN_REQUESTS: f64 = 100.0;

pub const ERROR_RATE: MetricSpec = MetricSpec {
    name: "5xx-rate",
    unit: "",
    direction: Direction::HigherIsWorse,
    critical: true,
    min_effect: 0.005,
    remove_outliers: false,
};
pub const P95: MetricSpec = MetricSpec {
    name: "p95-latency",
    unit: "ms",
    direction: Direction::HigherIsWorse,
    critical: true,
    min_effect: 10.0,
    remove_outliers: true,
};
pub const P99: MetricSpec = MetricSpec {
    name: "p99-latency",
    unit: "ms",
    direction: Direction::HigherIsWorse,
    critical: false,
    min_effect: 20.0,
    remove_outliers: true,
};
pub const MEAN: MetricSpec = MetricSpec {
    name: "mean-latency",
    unit: "ms",
    direction: Direction::HigherIsWorse,
    critical: false,
    min_effect: 10.0,
    remove_outliers: true,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub verdict: Verdict,
    pub score: Option<f64>,
    /// Every check, passed or not, one line each: what the ledger and the logs keep.
    pub lines: Vec<String>,
    /// `None` until the candidate has served enough requests to be judged at all.
    pub judgement: Option<Judgement>,
    /// The health policy's absolute limits the candidate is past (5XX rate, p95): what a long bake
    /// checks every slice, where repeating the judge's statistical test would call noise a failure.
    pub breaches: Vec<String>,
}

fn median(values: &[f64]) -> Option<f64> {
    super::stats::median(values)
}

/// Thresholds, then the judge. `candidate` and `baseline` are already cut to their windows.
pub fn analyse(policy: &HealthPolicy, candidate: &GroupSeries, baseline: &GroupSeries) -> Analysis {
    let mut lines = Vec::new();
    let mut unhealthy = Vec::new();
    let mut pending = Vec::new();

    let served = candidate.total_requests();
    let enough = served >= policy.min_request_count as f64;
    let line = format!(
        "requests: candidate served {served:.0}, {} needed before judging",
        policy.min_request_count
    );
    if !enough {
        return Analysis {
            verdict: Verdict::Pending(vec![line.clone()]),
            score: None,
            lines: vec![line],
            judgement: None,
            breaches: Vec::new(),
        };
    }
    lines.push(line);
    if let Some(rate) = candidate.total_error_rate() {
        let line = format!(
            "5xx-rate threshold: candidate {:.4} (max {:.4})",
            rate, policy.max_5xx_rate
        );
        if rate > policy.max_5xx_rate {
            unhealthy.push(line.clone());
        }
        lines.push(line);
    }
    if let Some(p95) = median(&GroupSeries::values(&candidate.p95_ms)) {
        let line = format!(
            "p95 threshold: candidate median p95 {p95:.1}ms (max {:.1}ms)",
            policy.max_p95_ms
        );
        if p95 > policy.max_p95_ms {
            unhealthy.push(line.clone());
        }
        lines.push(line);
    }

    let breaches = unhealthy.clone();
    let s = &policy.judge;
    let judgement = judge(
        s,
        &[
            (ERROR_RATE, candidate.error_rates(), baseline.error_rates()),
            (
                P95,
                GroupSeries::values(&candidate.p95_ms),
                GroupSeries::values(&baseline.p95_ms),
            ),
            (P99, candidate.p99_values(), baseline.p99_values()),
            (
                MEAN,
                GroupSeries::values(&candidate.mean_ms),
                GroupSeries::values(&baseline.mean_ms),
            ),
        ],
    );
    let score = judgement
        .score
        .map_or("no score".to_string(), |v| format!("score {v:.0}"));
    let head = format!(
        "judge: {:?}, {score} (pass {:.0}, marginal {:.0})",
        judgement.outcome, s.pass_score, s.marginal_score
    );
    let details: Vec<String> = judgement.metrics.iter().map(|m| m.describe()).collect();
    let mut judged = vec![head.clone()];
    judged.extend(details.iter().cloned());
    match judgement.outcome {
        Outcome::Pass => {}
        Outcome::Fail => unhealthy.extend(judged.clone()),
        Outcome::Marginal | Outcome::NoData => pending.extend(judged.clone()),
    }
    lines.extend(judged);

    let verdict = if !unhealthy.is_empty() {
        Verdict::Unhealthy(unhealthy)
    } else if !pending.is_empty() {
        Verdict::Pending(pending)
    } else {
        Verdict::Healthy
    };
    Analysis {
        verdict,
        score: judgement.score,
        lines,
        judgement: Some(judgement),
        breaches,
    }
}

/// Periods `[from, to)` in epoch seconds, whole periods only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// Where to look for the candidate's and the baseline's numbers at a step.
///
/// The candidate: whole periods since its current weight took effect, up to the last complete one
/// (the current period is still filling). The baseline: the live colour over the same periods while
/// it still serves traffic; once the candidate has everything, the live colour's last periods before
/// this shift (back to the previous shift, or as long as the candidate's window for the first one).
pub fn windows(
    shifted_at_ms: u64,
    previous_at_ms: Option<u64>,
    candidate_weight: u8,
    now_ms: u64,
    period: u32,
) -> (Window, Window) {
    let p = i64::from(period.max(1));
    let ceil = |ms: u64| ((ms as i64 + 999) / 1000 + p - 1) / p * p;
    let floor = |ms: u64| (ms as i64 / 1000) / p * p;
    let from = ceil(shifted_at_ms);
    let candidate = Window {
        from,
        to: floor(now_ms).max(from),
    };
    if candidate_weight < 100 {
        return (candidate, candidate);
    }
    let length = candidate.to - candidate.from;
    let start = previous_at_ms.map_or(from - length, ceil).min(from);
    (
        candidate,
        Window {
            from: start,
            to: from,
        },
    )
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn partial_periods_are_left_out() {
        let (c, b) = windows(10_200, None, 10, 25_900, 1);
        assert_eq!(c, Window { from: 11, to: 25 });
        assert_eq!(b, c);
        let (c, _) = windows(60_000, None, 10, 359_000, 60);
        assert_eq!(c, Window { from: 60, to: 300 });
    }

    #[test]
    fn at_full_weight_the_baseline_is_the_previous_step() {
        let (c, b) = windows(20_000, Some(5_500), 100, 30_000, 1);
        assert_eq!(c, Window { from: 20, to: 30 });
        assert_eq!(b, Window { from: 6, to: 20 });
        let (_, first) = windows(20_000, None, 100, 30_000, 1);
        assert_eq!(first, Window { from: 10, to: 20 });
    }
}
