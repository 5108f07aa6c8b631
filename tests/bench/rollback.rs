//! `make bench-rollback`: how long Cutover's part of a rollback takes in the local cloud, over 50
//! runs. Each run claims the ledger, shifts the canary to 10 %, then invokes the rollback function.
//! Prints figures; asserts nothing beyond each run ending all-live.
//!
//! - function: from the rollback function receiving the event to the listener read back at 100 % live
//!   (its own `timeToRollbackMs`, measured inside the function);
//! - end to end: from this client sending the Invoke to its own DescribeListeners showing 100 % live
//!   (includes ministack's Lambda dispatch, the re-assert window and the scale-down before the
//!   function returns).

use cutover_core::Weights;
use cutover_scenarios::{unique, LocalCloud};
use serde_json::json;
use std::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let c = LocalCloud::connect().await;
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let live = c.live_colour().await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let id = unique(&format!("bench{run}-"));
        assert_eq!(c.prepare(&id).await.error_type, None);
        assert_eq!(c.shift(&id, 0, 10).await.error_type, None);
        let event = json!({"app": app, "env": env, "reason": format!("bench run {run}")});
        let t = Instant::now();
        let out = c.rollback(&event).await;
        assert_eq!(out.error_type, None, "{}", out.payload);
        while c.listener_weights().await != Weights::all_on(live) {}
        outside.push(t.elapsed().as_secs_f64() * 1000.0);
        inside.push(
            out.payload["timeToRollbackMs"]
                .as_f64()
                .expect("timeToRollbackMs"),
        );
    }
    for (name, v) in [
        (
            "function: event received -> listener read back 100 % live",
            &mut inside,
        ),
        (
            "end to end: Invoke sent -> client sees 100 % live",
            &mut outside,
        ),
    ] {
        v.sort_by(f64::total_cmp);
        println!(
            "{name}: p50 {:.1} ms, p99 {:.1} ms, min {:.1} ms, max {:.1} ms over {runs} runs",
            percentile(v, 50.0),
            percentile(v, 99.0),
            v[0],
            v[v.len() - 1]
        );
    }
}
