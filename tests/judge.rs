//! The verify step judging the candidate's own traffic, published by the traffic simulator
//! (local/simulator.py): a `bad` image (tag containing "bad": 8 % 5XX, p95 ~900 ms) is caught at the
//! first canary step with no alarm involved, and without data nothing passes.

use cutover_core::{Status, Weights};
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::json;

/// Restarts the simulator when a test that stopped it ends, passed or not.
struct Restart<'a>(&'a LocalCloud);

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        self.0.simulator("start");
    }
}

async fn alarm_state(c: &LocalCloud) -> String {
    let out = c
        .cloudwatch
        .describe_alarms()
        .alarm_names(c.seeded("alarmName"))
        .send()
        .await
        .expect("DescribeAlarms");
    out.metric_alarms()[0]
        .state_value()
        .unwrap()
        .as_str()
        .to_string()
}

#[tokio::test]
async fn a_bad_image_is_caught_by_the_judge_at_the_first_canary_step() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let id = unique("bad-");
    let run = c
        .deploy(
            &id,
            &format!("public.ecr.aws/live-event/service:{id}"),
            json!("Canary10Percent5Minutes"),
            None,
            || async {},
        )
        .await;
    assert_eq!(
        (run.status.as_str(), run.error.as_deref()),
        ("FAILED", Some("HealthFailed")),
        "{:?}",
        run.cause
    );
    let cause = run.cause.unwrap_or_default();
    for named in ["5xx-rate", "p95-latency (critical): Fail", "score 0"] {
        assert!(cause.contains(named), "the cause names {named}: {cause}");
    }
    assert!(
        !cause.contains("is ALARM"),
        "no alarm was involved: {cause}"
    );
    assert_ne!(alarm_state(&c).await, "ALARM");
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    let most = run.observed.iter().map(|w| w.of(live.other())).max();
    assert_eq!(most, Some(10), "{:?}", run.observed);

    let l = c.ledger().await.unwrap();
    let d = l.deployment.unwrap();
    assert_eq!((d.status, l.live_colour), (Status::RolledBack, live));
    let v = d.verdicts.last().expect("the failed verdict is recorded");
    assert_eq!(
        (v.step_index, v.candidate_weight, v.verdict.as_str()),
        (Some(0), 10, "Unhealthy")
    );
    assert_eq!(v.score, Some(0.0));
}

#[tokio::test]
async fn without_traffic_data_the_step_fails_at_its_deadline_never_passes() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    c.simulator("stop");
    let _restart = Restart(&c);
    let id = unique("nodata");
    let started = std::time::Instant::now();
    let run = c
        .deploy(
            &id,
            &format!("public.ecr.aws/live-event/service:{id}"),
            json!("Canary10Percent5Minutes"),
            None,
            || async {},
        )
        .await;
    let took = started.elapsed();
    assert_eq!(
        (run.status.as_str(), run.error.as_deref()),
        ("FAILED", Some("HealthFailed")),
        "{:?}",
        run.cause
    );
    let cause = run.cause.unwrap_or_default();
    assert!(cause.contains("verification deadline"), "{cause}");
    assert!(cause.contains("candidate served 0"), "{cause}");
    // The seed's verifyTimeoutSeconds is 30: the step cannot have failed before that.
    assert!(
        took.as_secs() >= 30,
        "failed after {took:?}, before its deadline"
    );
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    let d = c.ledger().await.unwrap().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    assert!(
        d.verdicts.iter().all(|v| v.verdict != "Healthy"),
        "{:?}",
        d.verdicts
    );
}
