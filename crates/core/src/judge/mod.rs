//! The canary judge (docs/architecture.md, "Canary judge"): candidate against baseline, one metric at
//! a time, in the manner of Kayenta's NetflixACAJudge. A metric fails only when the difference is both statistically
//! significant (two-sided Mann-Whitney at the configured confidence) and larger than the allowed
//! effect (a fraction of the baseline, never less than the metric's own floor). The score is the share
//! of judged metrics that passed; a failing critical metric fails the whole run.

pub mod analysis;
pub mod stats;

use crate::target::JudgeSettings;
use serde::Serialize;
use stats::{hodges_lehmann, mann_whitney, mean, median, remove_outliers};

/// Which way is bad. Errors and latency are worse when higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    HigherIsWorse,
    LowerIsWorse,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSpec {
    pub name: &'static str,
    pub unit: &'static str,
    pub direction: Direction,
    pub critical: bool,
    /// The smallest difference that matters, in the metric's unit. It is the whole allowance when
    /// the baseline is zero, where a relative tolerance would allow nothing at all.
    pub min_effect: f64,
    pub remove_outliers: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Class {
    Pass,
    /// Worse than the baseline beyond the tolerance.
    Fail,
    /// Better than the baseline beyond the tolerance: passes.
    Better,
    NoData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    pub name: &'static str,
    pub unit: &'static str,
    pub class: Class,
    pub critical: bool,
    pub candidate_samples: usize,
    pub baseline_samples: usize,
    pub candidate_mean: Option<f64>,
    pub baseline_mean: Option<f64>,
    pub p_value: Option<f64>,
    /// How far the candidate sits above the baseline (Hodges–Lehmann, or the difference of means for
    /// zero-heavy samples).
    pub effect: Option<f64>,
    pub allowed: Option<f64>,
    pub note: String,
}

impl MetricResult {
    /// One line a person can read in the Step Functions console.
    pub fn describe(&self) -> String {
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}{}", self.unit));
        let critical = if self.critical { " (critical)" } else { "" };
        format!(
            "{}{critical}: {:?}, candidate {} vs baseline {} (n={}/{}), p={}, effect {} allowed {}{}",
            self.name,
            self.class,
            fmt(self.candidate_mean),
            fmt(self.baseline_mean),
            self.candidate_samples,
            self.baseline_samples,
            self.p_value.map_or("-".to_string(), |p| format!("{p:.4}")),
            fmt(self.effect),
            fmt(self.allowed),
            if self.note.is_empty() { String::new() } else { format!(" — {}", self.note) },
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    Pass,
    Marginal,
    Fail,
    /// Not enough data to judge: never a pass.
    NoData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judgement {
    pub outcome: Outcome,
    pub score: Option<f64>,
    pub metrics: Vec<MetricResult>,
}

fn is_zero_heavy(v: &[f64]) -> bool {
    v.iter().filter(|x| **x == 0.0).count() * 2 > v.len()
}

/// Judge one metric. `candidate` and `baseline` hold one value per period.
pub fn classify(
    s: &JudgeSettings,
    spec: &MetricSpec,
    candidate: &[f64],
    baseline: &[f64],
) -> MetricResult {
    let needed = s.min_samples as usize;
    let clean = |v: &[f64]| {
        let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        if !spec.remove_outliers {
            return v;
        }
        // The fences keep one spike from deciding; they must not turn enough data into NoData (a
        // tight IQR over a few periods fences off ordinary noise).
        let fenced = remove_outliers(&v);
        if fenced.len() < needed && v.len() >= needed {
            v
        } else {
            fenced
        }
    };
    let (c, b) = (clean(candidate), clean(baseline));
    let mut r = MetricResult {
        name: spec.name,
        unit: spec.unit,
        class: Class::NoData,
        critical: spec.critical,
        candidate_samples: c.len(),
        baseline_samples: b.len(),
        candidate_mean: mean(&c),
        baseline_mean: mean(&b),
        p_value: None,
        effect: None,
        allowed: None,
        note: String::new(),
    };
    if c.len() < needed || b.len() < needed {
        r.note = format!("{needed} samples per side needed");
        return r;
    }
    let test = mann_whitney(&c, &b).expect("both sides are non-empty");
    // A median of pairwise differences is 0 when most periods are 0 on both sides, however often the
    // candidate errs in the rest; the difference of means still sees those periods.
    let zero_heavy = is_zero_heavy(&c) || is_zero_heavy(&b);
    let effect = if zero_heavy {
        r.note = "zero-heavy: effect is the difference of means".into();
        r.candidate_mean.unwrap_or(0.0) - r.baseline_mean.unwrap_or(0.0)
    } else {
        hodges_lehmann(&c, &b).expect("both sides are non-empty")
    };
    let centre = if zero_heavy {
        r.baseline_mean
    } else {
        median(&b)
    }
    .unwrap_or(0.0);
    let allowed = (s.tolerance * centre.abs()).max(spec.min_effect);
    let worse = match spec.direction {
        Direction::HigherIsWorse => effect,
        Direction::LowerIsWorse => -effect,
    };
    let significant = test.p_value < 1.0 - s.confidence;
    r.class = match (significant, worse > allowed, worse < -allowed) {
        (true, true, _) => Class::Fail,
        (true, _, true) => Class::Better,
        _ => Class::Pass,
    };
    r.p_value = Some(test.p_value);
    r.effect = Some(effect);
    r.allowed = Some(allowed);
    r
}

/// Judge every metric and score the run.
pub fn judge(s: &JudgeSettings, inputs: &[(MetricSpec, Vec<f64>, Vec<f64>)]) -> Judgement {
    let metrics: Vec<MetricResult> = inputs
        .iter()
        .map(|(spec, c, b)| classify(s, spec, c, b))
        .collect();
    let judged: Vec<&MetricResult> = metrics
        .iter()
        .filter(|m| m.class != Class::NoData)
        .collect();
    let critical_missing = metrics
        .iter()
        .any(|m| m.critical && m.class == Class::NoData);
    if judged.is_empty() || critical_missing {
        return Judgement {
            outcome: Outcome::NoData,
            score: None,
            metrics,
        };
    }
    let passed = judged.iter().filter(|m| m.class != Class::Fail).count();
    let critical_failed = judged.iter().any(|m| m.critical && m.class == Class::Fail);
    let score = if critical_failed {
        0.0
    } else {
        passed as f64 * 100.0 / judged.len() as f64
    };
    let outcome = if score >= s.pass_score {
        Outcome::Pass
    } else if score >= s.marginal_score {
        Outcome::Marginal
    } else {
        Outcome::Fail
    };
    Judgement {
        outcome,
        score: Some(score),
        metrics,
    }
}

#[cfg(test)]
mod tests;
