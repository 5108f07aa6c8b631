//! Cutover's Mann-Whitney U against SciPy's, on the committed vectors (command in the generator,
//! local/tools/mann_whitney_vectors.py): normal samples, heavy ties, zero-heavy counts.

use cutover_core::judge::stats::mann_whitney;
use serde_json::Value;

#[test]
fn u_and_p_agree_with_scipy() {
    let data: Value = serde_json::from_str(include_str!("data/mann_whitney_scipy.json")).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let mut with_ties = 0;
    for c in cases {
        let (x, y) = (floats(&c["x"]), floats(&c["y"]));
        let mut all: Vec<f64> = x.iter().chain(&y).copied().collect();
        all.sort_by(f64::total_cmp);
        all.dedup();
        if all.len() < x.len() + y.len() {
            with_ties += 1;
        }
        let got = mann_whitney(&x, &y).unwrap();
        let (u, p) = (c["u"].as_f64().unwrap(), c["p"].as_f64().unwrap());
        assert_eq!(got.u, u, "{}: U", c["name"]);
        assert!(
            (got.p_value - p).abs() <= 1e-9 * p.max(1e-12).max(1.0)
                && (got.p_value - p).abs() / p < 1e-7,
            "{}: p {} vs scipy {}",
            c["name"],
            got.p_value,
            p
        );
    }
    assert!(with_ties >= 8, "{with_ties} cases with ties");
}
