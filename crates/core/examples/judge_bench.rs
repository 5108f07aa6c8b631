//! `make bench`: how long the canary judge takes on 60 one-minute samples per side (an hour of ALB
//! data), for the four metrics verify-health judges. Prints figures; asserts nothing.

use cutover_core::judge::analysis::{analyse, GroupSeries};
use cutover_core::target::{HealthPolicy, JudgeSettings};
use std::hint::black_box;
use std::time::Instant;

fn series(requests: f64, errors: f64, p95: f64, seed: u64) -> GroupSeries {
    let mut s = GroupSeries::default();
    let mut x = seed;
    for t in 0..60 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let jitter = 1.0 + ((x >> 33) % 1000) as f64 / 10_000.0 - 0.05;
        s.requests.insert(t * 60, requests);
        if (x >> 20).is_multiple_of(3) {
            s.errors_5xx.insert(t * 60, errors);
        }
        s.p95_ms.insert(t * 60, p95 * jitter);
        s.p99_ms.insert(t * 60, 1.4 * p95 * jitter);
        s.mean_ms.insert(t * 60, 0.5 * p95 * jitter);
    }
    s
}

fn main() {
    let policy = HealthPolicy {
        max_5xx_rate: 0.02,
        max_p95_ms: 500.0,
        min_request_count: 50,
        period_seconds: 60,
        metric_delay_seconds: 120,
        verify_timeout_seconds: 900,
        max_failed_tasks: 3,
        judge: JudgeSettings::default(),
    };
    let baseline = series(27_000.0, 20.0, 120.0, 1);
    for (name, candidate) in [
        ("good", series(3_000.0, 3.0, 121.0, 2)),
        ("bad", series(3_000.0, 240.0, 900.0, 3)),
    ] {
        let rounds = 2_000;
        let mut times = Vec::with_capacity(rounds);
        let mut score = None;
        for _ in 0..rounds {
            let t = Instant::now();
            let a = analyse(
                black_box(&policy),
                black_box(&candidate),
                black_box(&baseline),
            );
            times.push(t.elapsed().as_nanos() as f64 / 1_000.0);
            score = a.score;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "judge, 60 samples a side, 4 metrics, {name} candidate (score {:?}): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs over {rounds} runs",
            score,
            times[rounds / 2],
            times[rounds * 99 / 100],
            times[rounds - 1]
        );
    }
}
