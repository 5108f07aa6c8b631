//! The smallest effect an experiment can detect, printed before it starts.
//!
//! From the control's recent history of the primary metric (one value per period, at the traffic it
//! had then, taken as its full traffic): σ, the spread of one period, and μ, its mean. A period of a
//! variant holding a share w of the traffic averages w as many requests, so for a per-request
//! statistic (a mean, a percentile) its spread is σ/√w and its level μ; for a total (Sum, SampleCount)
//! the spread is σ·√w and the level μ·w. With n periods per variant, a two-sided test at confidence
//! 1−α and power 1−β detects a shift of
//!
//!   δ = (z₁₋α/₂ + z₁₋β) · √(σ_A²/n + σ_B²/n) / √(3/π)
//!
//! where 3/π is the Mann-Whitney test's efficiency relative to the t-test for normal data (its worst
//! case is 0.864, so this is the optimistic end). The relative figure is δ/|μ_A|.

use super::compare::normal_quantile;
use super::metric::StatKind;
use crate::judge::stats::mean;
use serde::{Deserialize, Serialize};

/// The power the estimate is stated at, as is usual for experiment design.
pub const POWER: f64 = 0.8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PowerEstimate {
    pub periods: u64,
    pub period_seconds: u32,
    pub history_periods: usize,
    pub control_mean: f64,
    pub control_sd: f64,
    pub candidate_sd: f64,
    /// The smallest detectable shift, in the metric's unit.
    pub detectable: f64,
    /// `detectable` as a share of the control's level; `None` when that level is 0.
    pub detectable_relative: Option<f64>,
    pub confidence: f64,
    pub power: f64,
}

fn sample_sd(v: &[f64]) -> Option<f64> {
    let m = mean(v)?;
    (v.len() >= 2)
        .then(|| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

/// `Err` says why the experiment cannot detect anything: too few periods for the test, no history
/// to estimate from, or a detectable effect as large as the metric itself.
pub fn estimate(
    history: &[f64],
    candidate_share: f64,
    periods: u64,
    period_seconds: u32,
    kind: StatKind,
    confidence: f64,
    min_samples: u64,
) -> Result<PowerEstimate, String> {
    if periods < min_samples {
        return Err(format!(
            "the duration holds {periods} periods of {period_seconds} s per variant; the test needs at least {min_samples}"
        ));
    }
    let history: Vec<f64> = history.iter().copied().filter(|x| x.is_finite()).collect();
    let (Some(mu), Some(sd)) = (mean(&history), sample_sd(&history)) else {
        return Err(format!(
            "the control has {} periods of the metric in its recent history, at least 2 are needed to estimate the power: is the metric published with the TargetGroup dimension?",
            history.len()
        ));
    };
    let (wa, wb) = (1.0 - candidate_share, candidate_share);
    let (sd_a, sd_b, level_a) = match kind {
        StatKind::PerRequest => (sd / wa.sqrt(), sd / wb.sqrt(), mu),
        StatKind::Total => (sd * wa.sqrt(), sd * wb.sqrt(), mu * wa),
    };
    let n = periods as f64;
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0) + normal_quantile(POWER);
    let detectable =
        z * (sd_a * sd_a / n + sd_b * sd_b / n).sqrt() / (3.0 / std::f64::consts::PI).sqrt();
    let detectable_relative = (level_a != 0.0).then(|| detectable / level_a.abs());
    if detectable_relative.is_some_and(|r| r >= 1.0) {
        return Err(format!(
            "with {periods} periods per variant the smallest detectable change is {:.0} % of the control's level: run it longer or at a more even split",
            detectable_relative.unwrap_or(0.0) * 100.0
        ));
    }
    Ok(PowerEstimate {
        periods,
        period_seconds,
        history_periods: history.len(),
        control_mean: level_a,
        control_sd: sd_a,
        candidate_sd: sd_b,
        detectable,
        detectable_relative,
        confidence,
        power: POWER,
    })
}

impl PowerEstimate {
    pub fn describe(&self) -> String {
        let rel = self.detectable_relative.map_or(String::new(), |r| {
            format!(
                " ({:.1} % of the control's {:.6})",
                r * 100.0,
                self.control_mean
            )
        });
        format!(
            "power: {} periods of {} s per variant can detect a change of {:.6}{rel} at {} % confidence with {:.0} % power (σ per period: control {:.6}, candidate {:.6}; from {} periods of history)",
            self.periods,
            self.period_seconds,
            self.detectable,
            super::compare::percent(self.confidence),
            self.power * 100.0,
            self.control_sd,
            self.candidate_sd,
            self.history_periods
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_of_the_docs() {
        // A conversion rate of 0.25 whose periods spread by σ ≈ 0.0195 at full traffic; 50/50 for
        // 2 h of 60-s periods → 120 periods each.
        let history: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 0.2306 } else { 0.2694 })
            .collect();
        let sd = sample_sd(&history).unwrap();
        let e = estimate(&history, 0.5, 120, 60, StatKind::PerRequest, 0.95, 5).unwrap();
        let expected = (1.959964 + 0.841621) * (2.0 * 2.0 * sd * sd / 120.0).sqrt()
            / (3.0 / std::f64::consts::PI).sqrt();
        assert!(
            (e.detectable - expected).abs() < 1e-6,
            "{} vs {expected}",
            e.detectable
        );
        assert!((e.control_sd - sd * 2f64.sqrt()).abs() < 1e-12);
        assert!((e.detectable_relative.unwrap() - expected / 0.25).abs() < 1e-6);
    }

    #[test]
    fn a_longer_experiment_detects_less() {
        let history = [1.0, 1.2, 0.8, 1.1, 0.9];
        let short = estimate(&history, 0.5, 10, 60, StatKind::PerRequest, 0.95, 5).unwrap();
        let long = estimate(&history, 0.5, 40, 60, StatKind::PerRequest, 0.95, 5).unwrap();
        assert!((short.detectable / long.detectable - 2.0).abs() < 1e-9);
        // An uneven split is less sensitive than an even one.
        let uneven = estimate(&history, 0.1, 40, 60, StatKind::PerRequest, 0.95, 5).unwrap();
        assert!(uneven.detectable > long.detectable);
    }

    #[test]
    fn too_short_or_blind_experiments_are_refused() {
        let history = [1.0, 1.2, 0.8];
        let e = estimate(&history, 0.5, 3, 60, StatKind::PerRequest, 0.95, 5).unwrap_err();
        assert!(e.contains("needs at least 5"), "{e}");
        let e = estimate(&[1.0], 0.5, 100, 60, StatKind::PerRequest, 0.95, 5).unwrap_err();
        assert!(e.contains("history"), "{e}");
        let noisy = [0.0, 10.0, 0.0, 10.0];
        let e = estimate(&noisy, 0.5, 5, 60, StatKind::PerRequest, 0.95, 5).unwrap_err();
        assert!(e.contains("smallest detectable change"), "{e}");
    }
}
