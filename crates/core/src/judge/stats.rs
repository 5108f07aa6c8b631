//! The statistics the canary judge rests on: the Mann-Whitney U test (normal approximation with tie
//! and continuity corrections, as SciPy's `mannwhitneyu(method="asymptotic")`), the Hodges–Lehmann
//! shift estimate and Tukey's IQR fences. Cross-checked against SciPy in `tests/mann_whitney.rs`.

/// One two-sided Mann-Whitney U test of `x` against `y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of `x`: how many (x, y) pairs have x > y, ties counting one half.
    pub u: f64,
    pub p_value: f64,
}

/// Mid-ranks (1-based, ties share their average rank) of `values`, and the tie correction term
/// Σ(t³ − t) over groups of tied values.
fn ranks(values: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        ties += t * t * t - t;
        i = j + 1;
    }
    (ranks, ties)
}

/// `None` when either side is empty. When every value is tied the test has no variance; the p-value
/// is then 1 (no evidence of a difference), never NaN.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (r, ties) = ranks(&all);
    let r1: f64 = r[..x.len()].iter().sum();
    let u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    let u2 = n1 * n2 - u1;
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let p_value = if variance <= 0.0 {
        1.0
    } else {
        let z = (u1.max(u2) - mean - 0.5) / variance.sqrt();
        (libm::erfc(z / std::f64::consts::SQRT_2)).clamp(0.0, 1.0)
    };
    Some(MannWhitney { u: u1, p_value })
}

/// Median of a sorted, non-empty slice.
fn median_sorted(v: &[f64]) -> f64 {
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(median_sorted(&v))
}

pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Hodges–Lehmann estimate of how far `x` sits above `y`: the median of all pairwise differences.
pub fn hodges_lehmann(x: &[f64], y: &[f64]) -> Option<f64> {
    let mut diffs: Vec<f64> = x
        .iter()
        .flat_map(|a| y.iter().map(move |b| a - b))
        .collect();
    if diffs.is_empty() {
        return None;
    }
    diffs.sort_by(f64::total_cmp);
    Some(median_sorted(&diffs))
}

/// Linear-interpolated quantile (numpy's default) of a sorted, non-empty slice.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos.fract());
    if lo + 1 < v.len() {
        v[lo] + frac * (v[lo + 1] - v[lo])
    } else {
        v[lo]
    }
}

/// Drops values outside Tukey's fences (1.5 IQR beyond the quartiles). When the IQR is zero — a
/// zero-heavy error series is the common case — the fences would call every non-zero value an
/// outlier and hide exactly the errors the judge must see, so nothing is removed.
pub fn remove_outliers(values: &[f64]) -> Vec<f64> {
    if values.len() < 4 {
        return values.to_vec();
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile_sorted(&v, 0.25), quantile_sorted(&v, 0.75));
    let iqr = q3 - q1;
    if iqr <= 0.0 {
        return values.to_vec();
    }
    let (low, high) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    values
        .iter()
        .copied()
        .filter(|x| (low..=high).contains(x))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_average_rank() {
        let (r, ties) = ranks(&[3.0, 1.0, 3.0, 2.0]);
        assert_eq!(r, vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(ties, 6.0);
    }

    #[test]
    fn all_tied_samples_have_p_value_one_not_nan() {
        let zeros = [0.0; 20];
        let t = mann_whitney(&zeros, &zeros).unwrap();
        assert_eq!(t.p_value, 1.0);
        assert_eq!(t.u, 200.0);
    }

    #[test]
    fn empty_sides_are_not_tested() {
        assert!(mann_whitney(&[], &[1.0]).is_none());
        assert!(hodges_lehmann(&[1.0], &[]).is_none());
    }

    #[test]
    fn hodges_lehmann_is_the_median_pairwise_difference() {
        assert_eq!(
            hodges_lehmann(&[10.0, 11.0, 12.0], &[1.0, 2.0, 3.0]),
            Some(9.0)
        );
    }

    #[test]
    fn iqr_fences_drop_a_spike() {
        let mut v: Vec<f64> = (0..20).map(|i| 100.0 + f64::from(i)).collect();
        v.push(10_000.0);
        let kept = remove_outliers(&v);
        assert_eq!(kept.len(), 20);
        assert!(!kept.contains(&10_000.0));
    }

    #[test]
    fn zero_iqr_keeps_the_rare_non_zero_values() {
        // Without the IQR guard every 0.08 here is "outside the fences" and a bad candidate's errors vanish.
        let mut v = vec![0.0; 16];
        v.extend([0.08, 0.08, 0.08]);
        assert_eq!(remove_outliers(&v), v);
    }
}
