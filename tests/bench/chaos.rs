//! `make chaos` (issue 19, item 1): deployments of good and bad images while the fault proxies inject
//! one fault kind at one rate on every call the functions make in the run's region, then the
//! invariants (tests/support/chaos.rs). The two local regions run their halves of the matrix at once.
//!
//! Matrix: CHAOS_KINDS (default every kind) × CHAOS_RATES (default 0.05,0.2) × good/bad × CHAOS_RUNS
//! (default 10), plus CHAOS_BASELINE runs (default 3) of each release with no fault, which the extra
//! time is measured against. Prints a table and every violation; exits 1 on any violation.

use cutover_core::Status;
use cutover_scenarios::chaos::{Fault, Outcome};
use cutover_scenarios::{LocalCloud, OTHER_REGION};
use std::collections::BTreeMap;

struct Job {
    fault: Fault,
    rate: f64,
    bad: bool,
}

struct Done {
    fault: Fault,
    rate: f64,
    bad: bool,
    outcome: Outcome,
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run_all(c: LocalCloud, jobs: Vec<Job>) -> Vec<Done> {
    let mut done = Vec::new();
    let total = jobs.len();
    for (i, job) in jobs.into_iter().enumerate() {
        let outcome = c.chaos_run(job.fault, job.rate, job.bad).await;
        eprintln!(
            "chaos {} {}/{total}: {} at {:.0} % ({}): {:?} in {:.1} s, {} faults{}",
            c.region,
            i + 1,
            job.fault.name(),
            job.rate * 100.0,
            if job.bad { "bad" } else { "good" },
            outcome.status,
            outcome.seconds,
            outcome.faults,
            if outcome.violations.is_empty() {
                // A good release that did not promote, or a bad one that did not roll back: say why.
                let expected = if job.bad {
                    Some(Status::RolledBack)
                } else {
                    Some(Status::Promoted)
                };
                match (&outcome.reason, outcome.status == expected) {
                    (Some(r), false) => format!(" (unexpected: {r})"),
                    _ => String::new(),
                }
            } else {
                format!(", VIOLATIONS {:?}", outcome.violations)
            }
        );
        done.push(Done {
            fault: job.fault,
            rate: job.rate,
            bad: job.bad,
            outcome,
        });
    }
    done
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

#[tokio::main]
async fn main() {
    let kinds: Vec<Fault> = env_list("CHAOS_KINDS", "throttle,5xx,latency,reset,slow-ddb-write")
        .iter()
        .map(|k| Fault::parse(k).unwrap_or_else(|| panic!("CHAOS_KINDS: no fault kind {k:?}")))
        .collect();
    let rates: Vec<f64> = env_list("CHAOS_RATES", "0.05,0.2")
        .iter()
        .map(|r| r.parse().expect("CHAOS_RATES: numbers in 0..1"))
        .collect();
    let runs = env_num("CHAOS_RUNS", 10);
    let baseline = env_num("CHAOS_BASELINE", 3);

    let mut jobs = Vec::new();
    for bad in [false, true] {
        for _ in 0..baseline {
            jobs.push(Job {
                fault: Fault::None,
                rate: 0.0,
                bad,
            });
        }
    }
    for &fault in &kinds {
        for &rate in &rates {
            for bad in [false, true] {
                for _ in 0..runs {
                    jobs.push(Job { fault, rate, bad });
                }
            }
        }
    }
    // Alternate between the regions so each half holds every cell.
    let (mut east, mut west) = (Vec::new(), Vec::new());
    for (i, job) in jobs.into_iter().enumerate() {
        if i % 2 == 0 {
            east.push(job)
        } else {
            west.push(job)
        }
    }
    let home = LocalCloud::for_deployments().await;
    let other = LocalCloud::connect_in(OTHER_REGION).await;
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(run_all(home, east), run_all(other, west));
    let done: Vec<Done> = a.into_iter().chain(b).collect();

    // Baseline seconds per (release, outcome): what a run takes with nothing injected.
    let mut base: BTreeMap<(bool, String), Vec<f64>> = BTreeMap::new();
    for d in done.iter().filter(|d| d.fault == Fault::None) {
        base.entry((d.bad, format!("{:?}", d.outcome.status)))
            .or_default()
            .push(d.outcome.seconds);
    }
    println!(
        "chaos: {} deployments in {:.0} s over 2 regions (Waits at 3 %, canary 20 % with a 300 s bake = 9 s)",
        done.len(),
        started.elapsed().as_secs_f64()
    );
    println!("fault           rate  release  runs  faults  Promoted  RolledBack  Failed  other  violations  mean s  extra s vs no fault (per outcome)");
    let mut cells: Vec<(Fault, u64, bool)> = Vec::new();
    for d in &done {
        let key = (d.fault, (d.rate * 1000.0).round() as u64, d.bad);
        if !cells.contains(&key) {
            cells.push(key);
        }
    }
    let mut violations = 0;
    for (fault, rate, bad) in cells {
        let cell: Vec<&Done> = done
            .iter()
            .filter(|d| {
                d.fault == fault && (d.rate * 1000.0).round() as u64 == rate && d.bad == bad
            })
            .collect();
        let count = |s: Status| cell.iter().filter(|d| d.outcome.status == Some(s)).count();
        let other = cell
            .iter()
            .filter(|d| !d.outcome.status.is_some_and(|s| s.is_final()))
            .count();
        let broken = cell
            .iter()
            .filter(|d| !d.outcome.violations.is_empty())
            .count();
        violations += broken;
        let seconds: Vec<f64> = cell.iter().map(|d| d.outcome.seconds).collect();
        let mut extra = Vec::new();
        for status in [Status::Promoted, Status::RolledBack, Status::Failed] {
            let these: Vec<f64> = cell
                .iter()
                .filter(|d| d.outcome.status == Some(status))
                .map(|d| d.outcome.seconds)
                .collect();
            let (Some(m), Some(b)) = (
                mean(&these),
                base.get(&(bad, format!("{:?}", Some(status))))
                    .and_then(|b| mean(b)),
            ) else {
                continue;
            };
            extra.push(format!("{status:?} {:+.1}", m - b));
        }
        println!(
            "{:<14} {:>4.0} %  {:<7}  {:>4}  {:>6}  {:>8}  {:>10}  {:>6}  {:>5}  {:>10}  {:>6.1}  {}",
            fault.name(),
            rate as f64 / 10.0,
            if bad { "bad" } else { "good" },
            cell.len(),
            cell.iter().map(|d| d.outcome.faults).sum::<u64>(),
            count(Status::Promoted),
            count(Status::RolledBack),
            count(Status::Failed),
            other,
            broken,
            mean(&seconds).unwrap_or_default(),
            extra.join(", ")
        );
    }
    for d in done.iter().filter(|d| !d.outcome.violations.is_empty()) {
        println!(
            "VIOLATION {} ({} at {:.0} %): execution {}, ledger {:?}: {:?}",
            d.outcome.id,
            d.fault.name(),
            d.rate * 100.0,
            d.outcome.execution,
            d.outcome.status,
            d.outcome.violations
        );
    }
    println!(
        "{} faults injected in all, {violations} runs with an invariant violation",
        done.iter().map(|d| d.outcome.faults).sum::<u64>()
    );
    if violations > 0 {
        std::process::exit(1);
    }
}
