//! `cutover report` over the scenario's two deployments, then the page in headless Chromium
//! (tests/browser/report.mjs, run by node): no console error, nothing fetched from outside the file,
//! and each timeline draws the weights the ledger holds.

use cutover_scenarios::LocalCloud;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The CLI's report of the newest `limit` deployments, written to `dir/report.html`.
pub fn write(c: &LocalCloud, dir: &Path, limit: usize) -> (PathBuf, Value) {
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.join("report.html");
    let (app, env, limit) = (c.seeded("app"), c.seeded("env"), limit.to_string());
    let args = [
        "report",
        "--app",
        &app,
        "--env",
        &env,
        "--limit",
        &limit,
        "--out",
        out.to_str().unwrap(),
        "--output",
        "json",
    ];
    let run = c.cutover(&args);
    let said = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "cutover report: {said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let said: Value = serde_json::from_str(&said).expect("report --output json prints JSON");
    (out, said)
}

/// What the browser read off the page (report.mjs's JSON); a screenshot lands next to the page.
pub fn in_browser(page: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/report.mjs");
    let run = Command::new("node")
        .arg(&script)
        .arg(page)
        .output()
        .expect("node runs (Node.js and `local/browser.sh install` set the browser test up)");
    assert!(
        run.status.success(),
        "{} (local/browser.sh install puts in Chromium and playwright-core): {}",
        script.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("report.mjs prints one JSON object")
}

/// The line steps through `want`, each level within one percent: plotters draws on whole pixels,
/// 0.6 % of the timeline's height each.
pub fn assert_levels(line: &Value, want: &[f64], what: &str) {
    let got: Vec<f64> = line
        .as_array()
        .expect("a line is a list of steps")
        .iter()
        .map(|s| s["percent"].as_f64().unwrap())
        .collect();
    let close = got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1.0);
    assert!(close, "{what}: drawn {got:?}, the ledger says {want:?}");
}
