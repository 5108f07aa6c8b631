//! A/B experiments through `cutover experiment start --wait`, as CI would run one: the seeded
//! simulator converts 25 % of served requests, 10 % more for an image tagged `conv+10`, and publishes
//! `LiveEvent/Business:Conversion` per target group. The local cloud compresses Waits 100×, and each
//! 30-s bake slice costs about 0.7 s of Lambda calls on top, so a `--duration 45m` holds its split for
//! about 90 s of real data (some 18 five-second periods per variant). The equal pair runs at 99.9 %
//! confidence (one false winner in a thousand runs).

use super::{cutover, text};
use cutover_core::experiment::{Decision, Variant};
use cutover_core::{Status, Weights};
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};

const METRIC: &str = "LiveEvent/Business:Conversion:Average";

fn start(
    c: &LocalCloud,
    id: &str,
    tag: &str,
    duration: &str,
    extra: &[&str],
) -> std::process::Output {
    start_cmd(c, id, tag, duration, "0.999", extra)
        .output()
        .expect("cutover")
}

fn start_cmd(
    c: &LocalCloud,
    id: &str,
    tag: &str,
    duration: &str,
    confidence: &str,
    extra: &[&str],
) -> std::process::Command {
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let image = format!("public.ecr.aws/live-event/service:{tag}");
    let mut args = vec![
        "experiment",
        "start",
        "--app",
        &app,
        "--env",
        &env,
        "--image",
        &image,
        "--id",
        id,
        "--split",
        "50",
        "--duration",
        duration,
        "--metric",
        METRIC,
        "--higher-is-better",
        "--confidence",
        confidence,
        "--wait",
    ];
    args.extend(extra);
    c.cli(&args)
}

/// Wait until the live colour's target group has the history the power estimate reads (the first
/// scenario of a run may start a few seconds after the simulator): 30 one-second values, so even
/// the estimate's 5-second periods (durations of 40 minutes and more) find several whole ones
/// (10 values once gave a single whole 5-second period, and the 5XX scenario was refused).
pub(super) async fn with_history(c: &LocalCloud) {
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
    let live = c.live_colour().await;
    let arn = c.seed["targetGroups"][live.as_str()]
        .as_str()
        .unwrap()
        .to_string();
    let group = format!("targetgroup/{}", arn.split_once(":targetgroup/").unwrap().1);
    for _ in 0..90 {
        let now = std::time::SystemTime::now();
        let stat = MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace("LiveEvent/Business")
                    .metric_name("Conversion")
                    .dimensions(
                        Dimension::builder()
                            .name("TargetGroup")
                            .value(&group)
                            .build(),
                    )
                    .build(),
            )
            .period(1)
            .stat("Average")
            .build();
        let out = c
            .cloudwatch
            .get_metric_data()
            .metric_data_queries(MetricDataQuery::builder().id("h").metric_stat(stat).build())
            .start_time((now - std::time::Duration::from_secs(600)).into())
            .end_time(now.into())
            .send()
            .await
            .expect("GetMetricData");
        if out
            .metric_data_results()
            .first()
            .is_some_and(|r| r.values().len() >= 30)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    panic!("no Conversion history on {group} after 90 s: is the simulator running?");
}

/// The live image's `-conv±N` (the simulator's uplift), or nothing.
async fn live_conversion(c: &LocalCloud) -> String {
    let image = c
        .ledger()
        .await
        .and_then(|l| l.last_known_good)
        .map(|r| r.image)
        .unwrap_or_default();
    let tag = image.rsplit(':').next().unwrap_or_default();
    tag.find("conv")
        .map(|i| {
            let digits: String = tag[i + 4..]
                .chars()
                .enumerate()
                .take_while(|(k, ch)| {
                    (*k == 0 && "+-".contains(*ch)) || (*k > 0 && ch.is_ascii_digit())
                })
                .map(|(_, ch)| ch)
                .collect();
            format!("-conv{digits}")
        })
        .unwrap_or_default()
}

fn status_and_history(c: &LocalCloud) -> (String, String) {
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let status = text(&cutover(c, &["status", "--app", &app, "--env", &env]));
    let history = text(&cutover(
        c,
        &["history", "--app", &app, "--env", &env, "--limit", "3"],
    ));
    (status, history)
}

#[tokio::test]
async fn a_candidate_converting_10_percent_better_wins_and_is_promoted() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    with_history(&c).await;
    let id = unique("expwin");
    let before = c.listener_stickiness().await;
    // 90m: about 180 s of real data, 35 five-second periods a side; at 99 % confidence the test
    // finds the 10 % uplift in about 99 runs of 100 (its z was 3.3–3.9 over 17 periods).
    let child = start_cmd(
        &c,
        &id,
        &format!("{id}-conv+10"),
        "90m",
        "0.99",
        &["--auto-promote"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("cutover");
    // During the split the listener is sticky for the duration (5400 s).
    let mut sticky = None;
    for _ in 0..600 {
        if c.listener_weights().await == Weights::new(50, 50).unwrap() {
            sticky = c.listener_stickiness().await;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        sticky,
        Some((true, Some(5400))),
        "the split is sticky for the duration"
    );
    let out = child.wait_with_output().expect("cutover");
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("power: "),
        "the estimate is printed first: {log}"
    );
    assert!(log.contains("candidate (B) wins"), "{log}");
    let l = c.ledger().await.unwrap();
    let d = l.deployment.unwrap();
    assert_eq!((d.id.as_str(), d.status), (id.as_str(), Status::Promoted));
    assert_eq!(l.live_colour, live.other());
    assert_eq!(c.listener_weights().await, Weights::all_on(live.other()));
    let after = c.listener_stickiness().await;
    assert!(
        after == before || (before.is_none() && after.is_some_and(|s| !s.0)),
        "stickiness restored: {before:?} → {after:?}"
    );
    let e = d.experiment.unwrap();
    let r = e.result.unwrap();
    assert_eq!(r.winner, Some(Variant::Candidate), "{}", r.summary);
    assert!(
        r.effect.unwrap() > 0.0 && r.effect_high.unwrap() > 0.0,
        "{}",
        r.summary
    );
    assert_eq!(e.decision, Some(Decision::Promote));
    println!(
        "expwin: {} (split held {} ms)",
        r.summary,
        e.judged_at_ms.unwrap() - d.shifts[0].at_ms
    );
    let (status, history) = status_and_history(&c);
    assert!(
        status.contains("experiment: 50 % on the candidate"),
        "{status}"
    );
    assert!(history.contains("experiment: winner promoted"), "{history}");
}

#[tokio::test]
async fn equal_variants_show_no_significant_difference_and_the_control_keeps_all_traffic() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    with_history(&c).await;
    let id = unique("expeq");
    // The candidate converts as the live image does (a previous scenario may have promoted conv+10).
    let tag = format!("{id}{}", live_conversion(&c).await);
    let out = start(&c, &id, &tag, "20m", &["--auto-promote"]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("no significant difference"), "{log}");
    let l = c.ledger().await.unwrap();
    let d = l.deployment.unwrap();
    assert_eq!((d.id.as_str(), d.status), (id.as_str(), Status::RolledBack));
    assert_eq!(l.live_colour, live, "the control is still live");
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    let e = d.experiment.unwrap();
    assert_eq!(e.result.as_ref().unwrap().winner, None);
    assert_eq!(e.decision, Some(Decision::KeepControl));
    assert!(d
        .reason
        .unwrap_or_default()
        .contains("experiment concluded"));
    println!("expeq: {}", e.result.unwrap().summary);
    let (_, history) = status_and_history(&c);
    assert!(history.contains("experiment: control kept"), "{history}");
}

#[tokio::test]
async fn a_5xx_breach_during_an_experiment_rolls_it_back() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    with_history(&c).await;
    let id = unique("expbad-");
    let out = start(
        &c,
        &id,
        &format!("{id}-conv+10"),
        "45m",
        &["--auto-promote"],
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(2), "{log}");
    let l = c.ledger().await.unwrap();
    let d = l.deployment.unwrap();
    assert_eq!((d.id.as_str(), d.status), (id.as_str(), Status::RolledBack));
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    let sticky = c.listener_stickiness().await;
    assert!(
        sticky.is_none_or(|s| !s.0),
        "the rollback ended the stickiness: {sticky:?}"
    );
    let e = d.experiment.unwrap();
    assert!(e.result.is_none(), "rolled back before any verdict");
    let reason = d.reason.unwrap_or_default();
    assert!(!reason.contains("experiment concluded"), "{reason}");
    // Caught by the bake's threshold guard between Wait slices, not at the end of the duration by
    // the step's verification (which would have recorded a verdict and the judge's lines).
    assert!(
        reason.starts_with("HealthFailed: 5xx-rate threshold"),
        "{reason}"
    );
    assert!(
        !reason.contains("judge:") && d.verdicts.is_empty(),
        "{reason}"
    );
    let r = d.rollback.expect("a rollback record");
    println!(
        "expbad: rolled back by {} {} ms after the split: {reason}",
        r.trigger,
        r.requested_at_ms.saturating_sub(d.shifts[0].at_ms)
    );
    let (_, history) = status_and_history(&c);
    assert!(history.contains("experiment: rolled back"), "{history}");
}

#[tokio::test]
async fn a_metric_without_history_is_refused_before_anything_starts() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    c.live_colour().await;
    let before = c.ledger().await.map(|l| l.version);
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let id = unique("expnone");
    let out = cutover(
        &c,
        &[
            "experiment",
            "start",
            "--app",
            &app,
            "--env",
            &env,
            "--image",
            "r/s:x",
            "--id",
            &id,
            "--split",
            "50",
            "--duration",
            "2h",
            "--metric",
            "LiveEvent/Business:NoSuchMetric:Average",
        ],
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(4), "{log}");
    assert!(log.contains("recent history"), "{log}");
    assert_eq!(
        c.ledger().await.map(|l| l.version),
        before,
        "nothing was written"
    );
    let out = cutover(
        &c,
        &[
            "experiment",
            "start",
            "--app",
            &app,
            "--env",
            &env,
            "--image",
            "r/s:x",
            "--id",
            &id,
            "--split",
            "50",
            "--duration",
            "30s",
            "--metric",
            METRIC,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("durationSeconds"), "{}", text(&out));
}
