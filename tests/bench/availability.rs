//! `make bench-availability` (issue 19, item 4): the availability users saw during deployments in the
//! local cloud, from what the simulator served: 1 − 5XX / requests over both target groups
//! (CloudWatch `HTTPCode_Target_5XX_Count` and `RequestCount`, Sum per second), from the execution's
//! start to its end — for a bad canary, that is until the rollback put traffic back.
//!
//! For each canary weight in WEIGHTS (default 10,25,50), a good and a bad release (the simulator's bad
//! profile: 8 % 5XX), strategy `{weight, bake 300 s}` then 100 %. Waits run at 3 % of real time, so a
//! 300 s bake is 9 s here: the failed requests of a bad canary scale with the time it is exposed,
//! which on AWS is the bake (or, with an alarm, its period × evaluation periods + the metric delay);
//! the bench prints that model's figure for AWS next to the measurement. Prints figures; asserts only
//! that good releases promoted and bad ones rolled back.

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use cutover_core::Status;
use cutover_scenarios::{unique, LocalCloud};
use serde_json::json;
use std::time::{Duration, SystemTime};

const BAD_5XX: f64 = 0.08;
const GOOD_5XX: f64 = 0.001;
const RATE: f64 = 500.0;

/// Σ of `metric` (Sum, 1-s periods) over both target groups within [from, to].
async fn total(c: &LocalCloud, metric: &str, from: SystemTime, to: SystemTime) -> f64 {
    let mut queries = Vec::new();
    for (i, colour) in ["blue", "green"].iter().enumerate() {
        let arn = c.seeded(&format!("targetGroups.{colour}"));
        let group = format!("targetgroup/{}", arn.split_once(":targetgroup/").unwrap().1);
        let stat = MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace("AWS/ApplicationELB")
                    .metric_name(metric)
                    .dimensions(
                        Dimension::builder()
                            .name("LoadBalancer")
                            .value(c.seeded("loadBalancer"))
                            .build(),
                    )
                    .dimensions(
                        Dimension::builder()
                            .name("TargetGroup")
                            .value(group)
                            .build(),
                    )
                    .build(),
            )
            .period(1)
            .stat("Sum")
            .build();
        queries.push(
            MetricDataQuery::builder()
                .id(format!("m{i}"))
                .metric_stat(stat)
                .build(),
        );
    }
    let out = c
        .cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(from.into())
        .end_time(to.into())
        .send()
        .await
        .expect("GetMetricData");
    out.metric_data_results()
        .iter()
        .flat_map(|r| r.values().iter().copied())
        .sum()
}

struct Figure {
    weight: u8,
    bad: bool,
    seconds: f64,
    requests: f64,
    failed: f64,
}

#[tokio::main]
async fn main() {
    let c = LocalCloud::for_deployments().await;
    let weights: Vec<u8> = std::env::var("WEIGHTS")
        .unwrap_or_else(|_| "10,25,50".into())
        .split(',')
        .filter_map(|w| w.trim().parse().ok())
        .collect();
    let mut figures = Vec::new();
    for &weight in &weights {
        for bad in [false, true] {
            c.live_colour().await;
            let id = unique(&format!("avail{weight}{}", if bad { "bad-" } else { "-" }));
            let image = format!("public.ecr.aws/live-event/service:{id}");
            let strategy = json!({"steps": [{"weight": weight, "bakeSeconds": 300}, {"weight": 100, "bakeSeconds": 0}]});
            let from = SystemTime::now();
            let run = c.deploy(&id, &image, strategy, None, || async {}).await;
            let to = SystemTime::now();
            let status = c
                .ledger()
                .await
                .and_then(|l| l.deployment)
                .map(|d| d.status);
            let expected = if bad {
                Status::RolledBack
            } else {
                Status::Promoted
            };
            assert_eq!(
                status,
                Some(expected),
                "{id}: {:?} {:?}",
                run.error,
                run.cause
            );
            // The simulator publishes each second mid-second; let the last ones land.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let requests = total(&c, "RequestCount", from, to).await;
            let failed = total(&c, "HTTPCode_Target_5XX_Count", from, to).await;
            figures.push(Figure {
                weight,
                bad,
                seconds: to.duration_since(from).unwrap_or_default().as_secs_f64(),
                requests,
                failed,
            });
        }
    }
    println!("availability during deployments (local cloud, {RATE:.0} req/s, waits at 3 %):");
    println!("weight  release  seconds  requests  5XX    availability  AWS model (bake 300 s)");
    for f in &figures {
        let availability = 1.0 - f.failed / f.requests.max(1.0);
        // On AWS the candidate serves `weight` for the whole bake before the judge (or an alarm)
        // acts; the deployment's window is the bake plus the stable and verification time.
        let exposed = 300.0;
        let share = f64::from(f.weight) / 100.0;
        let bad_rate = if f.bad { BAD_5XX } else { GOOD_5XX };
        let model = 1.0 - (share * bad_rate + (1.0 - share) * GOOD_5XX);
        println!(
            "{:>5} %  {:<7}  {:>7.1}  {:>8.0}  {:>5.0}  {:>11.4} %  {:>8.4} % over the {exposed:.0} s bake",
            f.weight,
            if f.bad { "bad" } else { "good" },
            f.seconds,
            f.requests,
            f.failed,
            availability * 100.0,
            model * 100.0
        );
    }
    println!(
        "model: availability over the exposure = 1 − (w·e_bad + (1−w)·e_good); a 5XX alarm of period P \
         and N evaluation periods bounds the exposure at ≈ N·P + the metric delay instead of the bake \
         (P = 60 s, N = 1: about 1 − w·e_bad·(60+60)/window). The 99.9 % bar over a 300 s bake holds \
         for w·(e_bad − e_good) ≤ 0.0009, i.e. w ≤ 1.1 % at e_bad = 8 %: a bad canary at 10 % costs \
         the bar within its bake unless the alarm acts in the first ~30 s."
    );
}
