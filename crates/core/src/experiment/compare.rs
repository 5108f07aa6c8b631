//! The experiment's verdict: candidate (B) against control (A) on the primary metric, one value per
//! period each, with the canary judge's statistics (`judge::stats`): a two-sided Mann-Whitney test,
//! the Hodges–Lehmann shift as the effect and its distribution-free (Moses) confidence interval, and
//! the probability that a B period beats an A period (U / n₁n₂).

use crate::judge::stats::{hodges_lehmann, mann_whitney, mean, median};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    Control,
    Candidate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentResult {
    /// `None`: no significant difference, or too little data.
    pub winner: Option<Variant>,
    pub summary: String,
    pub control_samples: usize,
    pub candidate_samples: usize,
    pub control_mean: Option<f64>,
    pub candidate_mean: Option<f64>,
    pub p_value: Option<f64>,
    /// How far B sits above A, in the metric's unit (Hodges–Lehmann).
    pub effect: Option<f64>,
    pub effect_low: Option<f64>,
    pub effect_high: Option<f64>,
    /// The effect as a share of A's median.
    pub relative_effect: Option<f64>,
    /// P(a B period > an A period), ties counting one half: 0.5 is no difference.
    pub superiority: Option<f64>,
    pub confidence: f64,
}

/// The z with P(Z ≤ z) = `p`, by bisection on erfc: 60 halvings are below f64's resolution, and the
/// judge asks for a handful per experiment.
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let cdf = |z: f64| 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Moses' interval for the Hodges–Lehmann shift: the k-th smallest and k-th largest pairwise
/// difference, k from the normal approximation of U's distribution.
fn shift_interval(b: &[f64], a: &[f64], confidence: f64) -> (f64, f64) {
    let mut diffs: Vec<f64> = b
        .iter()
        .flat_map(|x| a.iter().map(move |y| x - y))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let (m, n) = (b.len() as f64, a.len() as f64);
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let k = (m * n / 2.0 - z * (m * n * (m + n + 1.0) / 12.0).sqrt()).floor();
    let k = (k.max(1.0) as usize).min(diffs.len());
    (diffs[k - 1], diffs[diffs.len() - k])
}

/// 0.95 → "95", 0.999 → "99.9".
pub fn percent(share: f64) -> String {
    let s = format!("{:.2}", share * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Judge B against A. `higher_is_better` gives the direction that makes a variant the winner.
pub fn compare(
    control: &[f64],
    candidate: &[f64],
    higher_is_better: bool,
    confidence: f64,
    min_samples: usize,
) -> ExperimentResult {
    let clean = |v: &[f64]| -> Vec<f64> { v.iter().copied().filter(|x| x.is_finite()).collect() };
    let (a, b) = (clean(control), clean(candidate));
    let mut r = ExperimentResult {
        winner: None,
        summary: String::new(),
        control_samples: a.len(),
        candidate_samples: b.len(),
        control_mean: mean(&a),
        candidate_mean: mean(&b),
        p_value: None,
        effect: None,
        effect_low: None,
        effect_high: None,
        relative_effect: None,
        superiority: None,
        confidence,
    };
    if a.len() < min_samples || b.len() < min_samples {
        r.summary = format!(
            "not enough data: {} control and {} candidate periods, {min_samples} each needed; the control keeps its traffic",
            a.len(),
            b.len()
        );
        return r;
    }
    let test = mann_whitney(&b, &a).expect("both sides have samples");
    let effect = hodges_lehmann(&b, &a).expect("both sides have samples");
    let (low, high) = shift_interval(&b, &a, confidence);
    let centre = median(&a).unwrap_or(0.0);
    let relative = (centre != 0.0).then(|| effect / centre.abs());
    r.p_value = Some(test.p_value);
    r.effect = Some(effect);
    r.effect_low = Some(low);
    r.effect_high = Some(high);
    r.relative_effect = relative;
    r.superiority = Some(test.u / (a.len() * b.len()) as f64);
    let significant = test.p_value < 1.0 - confidence && effect != 0.0;
    let pct = relative.map_or(String::new(), |x| format!(" ({:+.1} %)", x * 100.0));
    let stats = format!(
        "effect {effect:+.6}{pct}, {} % CI [{low:+.6}, {high:+.6}], p={:.4}, n={}/{}",
        percent(confidence),
        test.p_value,
        b.len(),
        a.len()
    );
    if significant {
        let b_better = (effect > 0.0) == higher_is_better;
        r.winner = Some(if b_better {
            Variant::Candidate
        } else {
            Variant::Control
        });
        r.summary = format!(
            "{} wins: {stats}",
            if b_better {
                "candidate (B)"
            } else {
                "control (A)"
            }
        );
    } else {
        r.summary = format!("no significant difference: {stats}");
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidences_print_as_people_write_them() {
        assert_eq!(
            (percent(0.95), percent(0.999), percent(0.9999)),
            ("95".into(), "99.9".into(), "99.99".into())
        );
    }

    #[test]
    fn quantiles_match_the_tables() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.8) - 0.841621).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
    }

    /// Evenly spread values around `centre`: deterministic samples with a known shift.
    fn spread(centre: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| centre + ((i * 7919) % n) as f64 / n as f64 * 0.01 - 0.005)
            .collect()
    }

    #[test]
    fn a_clear_uplift_makes_b_the_winner_with_its_interval() {
        let r = compare(&spread(0.25, 40), &spread(0.275, 40), true, 0.95, 5);
        assert_eq!(r.winner, Some(Variant::Candidate), "{}", r.summary);
        let (e, lo, hi) = (
            r.effect.unwrap(),
            r.effect_low.unwrap(),
            r.effect_high.unwrap(),
        );
        assert!(
            (e - 0.025).abs() < 1e-3 && lo <= e && e <= hi,
            "{e} [{lo}, {hi}]"
        );
        assert!((r.relative_effect.unwrap() - 0.1).abs() < 0.01);
        assert_eq!(r.superiority, Some(1.0));
        // Lower is better: the same data makes the control the winner.
        let r = compare(&spread(0.25, 40), &spread(0.275, 40), false, 0.95, 5);
        assert_eq!(r.winner, Some(Variant::Control));
    }

    #[test]
    fn equal_variants_have_no_winner() {
        let r = compare(&spread(0.25, 40), &spread(0.25, 40), true, 0.95, 5);
        assert_eq!(r.winner, None);
        assert!(
            r.summary.starts_with("no significant difference"),
            "{}",
            r.summary
        );
        assert!(r.effect_low.unwrap() <= 0.0 && r.effect_high.unwrap() >= 0.0);
    }

    #[test]
    fn too_few_periods_decide_nothing() {
        let r = compare(&[1.0, 2.0], &[5.0; 10], true, 0.95, 5);
        assert_eq!((r.winner, r.p_value), (None, None));
        assert!(r.summary.contains("not enough data"));
    }

    #[test]
    fn all_tied_samples_are_no_difference() {
        let r = compare(&[0.0; 10], &[0.0; 10], true, 0.95, 5);
        assert_eq!(r.winner, None);
        assert_eq!(r.p_value, Some(1.0));
    }
}
