//! phase experiment over in-memory ports: the verdict recorded once from each variant's series, and
//! the decision the state machine acts on.

use cutover_aws::fakes::{FakeCloud, BLUE_TG, GREEN_TG};
use cutover_core::experiment::{Decision, ExperimentRecord, ExperimentSpec, Variant};
use cutover_core::{Colour, ErrorType, Weights};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// d1 prepared as an experiment (blue live, green the candidate), split written at 10 s.
async fn experiment(auto_promote: bool) -> FakeCloud {
    let c = FakeCloud::prepared().await;
    let spec = ExperimentSpec::from_json(&json!({
        "split": 50, "durationSeconds": 600, "metric": "LiveEvent/Business:Conversion:Average",
        "higherIsBetter": true, "autoPromote": auto_promote, "concludeWithinSeconds": 3600
    }))
    .unwrap();
    c.edit_ledger(|l| {
        l.start_experiment("d1", ExperimentRecord::new(spec, None))
            .unwrap();
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 50), 10_000)
            .unwrap();
    })
    .await;
    // The candidate runs its release with a healthy target: the bake's guards pass.
    c.services.add("svc-green", "td:2", 3);
    let healthy = cutover_core::TargetHealth {
        id: "10.0.1.1".into(),
        state: "healthy".into(),
    };
    c.lb.health
        .lock()
        .unwrap()
        .insert(GREEN_TG.into(), vec![healthy]);
    c
}

/// One value a second from 0 to 200 s around `centre`, with a deterministic spread.
fn series(centre: f64) -> BTreeMap<i64, f64> {
    (0..200)
        .map(|t| (t, centre + ((t * 37) % 17) as f64 / 17.0 * 0.02 - 0.01))
        .collect()
}

async fn conclude(
    c: &FakeCloud,
    extra: Value,
    now_ms: u64,
) -> Result<Value, cutover_core::Failure> {
    let mut event =
        json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": "experiment"});
    for (k, v) in extra.as_object().unwrap() {
        event[k] = v.clone();
    }
    let out = verify_health::handle(c, &event, now_ms).await;
    c.assert_calls_within(verify_health::CALLS);
    out
}

fn recorded(c: &FakeCloud) -> ExperimentRecord {
    c.stored_ledger().deployment.unwrap().experiment.unwrap()
}

#[tokio::test]
async fn a_better_candidate_wins_and_is_promoted_with_auto_promote() {
    let c = experiment(true).await;
    c.metrics.set_app(BLUE_TG, series(0.25));
    c.metrics.set_app(GREEN_TG, series(0.275));
    let out = conclude(&c, json!({"waitedSeconds": 0}), 100_000)
        .await
        .unwrap();
    assert_eq!(out["decision"], "promote");
    let q = c.metrics.series_queries.lock().unwrap()[0].clone();
    // Control first, then candidate; from the first whole period after the split to what was delivered.
    assert_eq!(
        q.target_groups,
        vec!["targetgroup/blue/1", "targetgroup/green/2"]
    );
    assert_eq!((q.start_s, q.end_s, q.period_s), (11, 100, 1));
    let e = recorded(&c);
    let r = e.result.unwrap();
    assert_eq!(r.winner, Some(Variant::Candidate), "{}", r.summary);
    assert_eq!((r.control_samples, r.candidate_samples), (89, 89));
    assert!(
        (r.relative_effect.unwrap() - 0.1).abs() < 0.02,
        "{}",
        r.summary
    );
    assert!(r.effect_low.unwrap() > 0.0 && r.p_value.unwrap() < 0.001);
    assert_eq!(e.decision, Some(Decision::Promote));
    // A retried call judges nothing again.
    conclude(&c, json!({}), 101_000).await.unwrap();
    assert_eq!(c.metrics.series_queries.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn equal_variants_keep_the_control() {
    let c = experiment(true).await;
    c.metrics.set_app(BLUE_TG, series(0.25));
    c.metrics.set_app(GREEN_TG, series(0.25));
    let out = conclude(&c, json!({}), 100_000).await.unwrap();
    assert_eq!(out["decision"], "keepControl");
    let reason = out["reason"].as_str().unwrap();
    assert!(reason.contains("no significant difference"), "{reason}");
    assert_eq!(recorded(&c).result.unwrap().winner, None);
}

#[tokio::test]
async fn a_winner_waits_for_a_person_and_is_promoted_when_concluded() {
    let c = experiment(false).await;
    c.metrics.set_app(BLUE_TG, series(0.25));
    c.metrics.set_app(GREEN_TG, series(0.275));
    let out = conclude(&c, json!({}), 100_000).await.unwrap();
    assert_eq!(out["decision"], "await");
    assert_eq!(out["remainingSeconds"], 3600);
    assert!(out["waitSeconds"].as_u64().unwrap() > 0);
    c.edit_ledger(|l| {
        l.conclude_experiment(true, 120_000).unwrap();
    })
    .await;
    let out = conclude(
        &c,
        json!({"remainingSeconds": 3600, "waitedSeconds": 30}),
        130_000,
    )
    .await
    .unwrap();
    assert_eq!(out["decision"], "promote");
}

#[tokio::test]
async fn nobody_concluding_in_time_keeps_the_control() {
    let c = experiment(false).await;
    c.metrics.set_app(BLUE_TG, series(0.25));
    c.metrics.set_app(GREEN_TG, series(0.275));
    conclude(&c, json!({}), 100_000).await.unwrap();
    let out = conclude(
        &c,
        json!({"remainingSeconds": 30, "waitedSeconds": 30}),
        130_000,
    )
    .await
    .unwrap();
    assert_eq!(out["decision"], "keepControl");
    assert_eq!(recorded(&c).decision, Some(Decision::KeepControl));
}

#[tokio::test]
async fn no_data_is_no_winner_and_a_plain_deployment_is_refused() {
    let c = experiment(true).await;
    let out = conclude(&c, json!({}), 100_000).await.unwrap();
    assert_eq!(out["decision"], "keepControl");
    assert!(out["summary"].as_str().unwrap().contains("not enough data"));

    let plain = FakeCloud::prepared().await;
    let e = conclude(&plain, json!({}), 100_000).await.unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidInput);
}

#[tokio::test]
async fn the_sample_event_is_understood() {
    let c = experiment(true).await;
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../events/verify-health-experiment.json"
    ))
    .unwrap();
    event["app"] = json!("live");
    event["deploymentId"] = json!("d1");
    let out = verify_health::handle(&c, &event, 100_000).await.unwrap();
    assert_eq!(out["remainingSeconds"], 86_400);
    assert_eq!(out["decision"], "keepControl", "no data: no winner");
}

async fn bake_slice(c: &FakeCloud, now_ms: u64) -> Result<Value, cutover_core::Failure> {
    let event = json!({"app": "live", "env": "prod", "deploymentId": "d1", "phase": "bake",
        "stepIndex": 0, "remainingSeconds": 7200, "waitedSeconds": 30});
    let out = verify_health::handle(c, &event, now_ms).await;
    c.assert_calls_within(verify_health::CALLS);
    out
}

#[tokio::test]
async fn an_experiments_bake_rolls_back_on_a_threshold_breach_within_one_slice() {
    use cutover_aws::fakes::steady_series;
    use cutover_core::Status;
    let c = experiment(true).await;
    c.metrics
        .set(BLUE_TG, steady_series(0, 200, 250.0, 0.001, 120.0));
    c.metrics
        .set(GREEN_TG, steady_series(0, 200, 250.0, 0.0, 120.0));
    let out = bake_slice(&c, 40_000).await.unwrap();
    assert_eq!(
        out["remainingSeconds"], 7170,
        "a healthy candidate bakes on"
    );
    c.metrics
        .set(GREEN_TG, steady_series(0, 200, 250.0, 0.08, 120.0));
    let e = bake_slice(&c, 70_000).await.unwrap_err();
    assert_eq!(e.error_type, ErrorType::HealthFailed);
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RollingBack);
    let reason = d.reason.unwrap();
    assert!(reason.contains("5xx-rate threshold"), "{reason}");
}

#[tokio::test]
async fn a_breach_while_a_winner_waits_for_a_person_rolls_back() {
    use cutover_aws::fakes::steady_series;
    let c = experiment(false).await;
    c.metrics.set_app(BLUE_TG, series(0.25));
    c.metrics.set_app(GREEN_TG, series(0.275));
    assert_eq!(
        conclude(&c, json!({}), 100_000).await.unwrap()["decision"],
        "await"
    );
    c.metrics
        .set(BLUE_TG, steady_series(0, 200, 250.0, 0.001, 120.0));
    c.metrics
        .set(GREEN_TG, steady_series(0, 200, 250.0, 0.08, 120.0));
    let e = conclude(
        &c,
        json!({"remainingSeconds": 3600, "waitedSeconds": 30}),
        130_000,
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type, ErrorType::HealthFailed);
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, cutover_core::Status::RollingBack);
}
