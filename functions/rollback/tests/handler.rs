//! rollback over in-memory ports: every event shape, one record however often it is asked, traffic
//! back on live and kept there, nothing touched for events that are not Cutover's to act on.

use cutover_aws::fakes::FakeCloud;
use cutover_core::{Colour, ErrorType, Failure, Flags, Status, Weights};
use rollback::{handle, Settings};
use serde_json::{json, Value};

async fn canary_at_10() -> FakeCloud {
    let c = FakeCloud::prepared().await;
    c.edit_ledger(|l| {
        l.deployment.as_mut().unwrap().execution_arn = Some("arn:exec:d1".into());
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 2)
            .unwrap();
    })
    .await;
    c.set_weights(Weights::with_candidate(Colour::Green, 10));
    c.services.add("svc-green", "td:2", 3);
    c
}

fn sample(name: &str) -> Value {
    let text = match name {
        "catch" => include_str!("../../../events/rollback-catch.json"),
        "sns" => include_str!("../../../events/rollback-alarm-sns.json"),
        "direct" => include_str!("../../../events/rollback-alarm-direct.json"),
        "composite" => include_str!("../../../events/rollback-alarm-composite.json"),
        _ => include_str!("../../../events/rollback-manual.json"),
    };
    let mut v: Value = serde_json::from_str(text).unwrap();
    if v.get("app").is_some() {
        v["app"] = json!("live");
    }
    if v.get("deploymentId").is_some() {
        v["deploymentId"] = json!("d1");
    }
    v
}

/// The SNS sample for alarm `name` in state `state`.
fn sns(name: &str, state: &str) -> Value {
    let mut v = sample("sns");
    let mut alarm: Value =
        serde_json::from_str(v["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    alarm["AlarmName"] = json!(name);
    alarm["NewStateValue"] = json!(state);
    v["Records"][0]["Sns"]["Message"] = json!(alarm.to_string());
    v
}

/// The samples' alarms live in account 123456789012, us-east-1: this function's home here.
const QUICK: Settings = Settings {
    reassert_ms: 0,
    reassert_every_ms: 10,
    home: Some(("123456789012", "us-east-1")),
};

async fn run(c: &FakeCloud, event: &Value) -> Result<Value, Failure> {
    let out = handle(c, QUICK, event, &cutover_lambda::now_ms).await;
    c.assert_calls_within(rollback::CALLS);
    out
}

#[tokio::test]
async fn a_caught_failure_puts_traffic_back_and_leaves_its_execution_running() {
    let c = canary_at_10().await;
    let out = run(&c, &sample("catch")).await.unwrap();
    assert_eq!(out["rolledBack"], true);
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(c.services.get("svc-green").desired, 0);
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    assert_eq!(
        d.reason.as_deref(),
        Some("HealthFailed: alarm live-event-5xx is ALARM")
    );
    let r = d.rollback.unwrap();
    assert_eq!(r.trigger, "step");
    assert!(r.traffic_restored_at_ms.is_some() && r.finished_at_ms.is_some());
    assert!(
        c.executions.stopped.lock().unwrap().is_empty(),
        "the execution is running this rollback"
    );
}

#[tokio::test]
async fn an_sns_alarm_rolls_back_stops_the_execution_and_names_the_alarm() {
    let c = canary_at_10().await;
    let out = run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    assert_eq!(out["rolledBack"], true, "{out}");
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    let stopped = c.executions.stopped.lock().unwrap().clone();
    assert_eq!(stopped.len(), 1);
    assert_eq!(
        (stopped[0].0.as_str(), stopped[0].1.as_str()),
        ("arn:exec:d1", "CutoverRollback")
    );
    assert!(
        stopped[0]
            .2
            .starts_with("alarm live-5xx: Threshold Crossed"),
        "{}",
        stopped[0].2
    );
    let r = c.stored_ledger().deployment.unwrap().rollback.unwrap();
    assert_eq!(
        (r.trigger.as_str(), r.sources.clone()),
        ("alarm", vec!["alarm live-5xx via sns".to_string()])
    );
}

#[tokio::test]
async fn the_direct_alarm_action_is_understood() {
    let c = canary_at_10().await;
    let mut event = sample("direct");
    event["alarmData"]["alarmName"] = json!("live-5xx");
    run(&c, &event).await.unwrap();
    let r = c.stored_ledger().deployment.unwrap().rollback.unwrap();
    assert_eq!(r.sources, vec!["alarm live-5xx via direct".to_string()]);
}

#[tokio::test]
async fn the_same_alarm_three_times_and_a_second_alarm_give_one_rollback() {
    let c = canary_at_10().await;
    c.targets
        .edit("live#prod", |t| t.alarms.push("live-p99".into()));
    run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    let after_first = c.stored_ledger();
    let writes = *c.lb.writes.lock().unwrap();
    for event in [
        sns("live-5xx", "ALARM"),
        sns("live-5xx", "ALARM"),
        sns("live-p99", "ALARM"),
    ] {
        let out = run(&c, &event).await.unwrap();
        assert_eq!(out["ignored"], "no active deployment", "{out}");
    }
    assert_eq!(
        c.stored_ledger(),
        after_first,
        "later deliveries must not write"
    );
    assert_eq!(*c.lb.writes.lock().unwrap(), writes);
    assert_eq!(c.executions.stopped.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reason_of_500_kb_still_restores_traffic_and_is_recorded_cut() {
    let c = canary_at_10().await;
    let reason = "é".repeat(250_000);
    let event = json!({"app": "live", "env": "prod", "reason": reason});
    run(&c, &event).await.unwrap();
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    let recorded = d.reason.clone().unwrap();
    assert!(recorded.len() <= 1100, "{} bytes", recorded.len());
    assert!(recorded.ends_with("bytes cut)"), "{recorded}");
    let sources = d.rollback.unwrap().sources;
    assert!(sources.iter().all(|s| s.len() <= 1100), "{sources:?}");
    let stopped = c.executions.stopped.lock().unwrap();
    assert!(stopped.iter().all(|s| format!("{s:?}").len() < 4096));
}

#[tokio::test]
async fn an_alarm_of_another_account_or_region_changes_nothing() {
    let c = canary_at_10().await;
    let mut foreign = sns("live-5xx", "ALARM");
    let mut alarm: Value =
        serde_json::from_str(foreign["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    alarm["AWSAccountId"] = json!("999999999999");
    alarm["AlarmArn"] = json!("arn:aws:cloudwatch:us-east-1:999999999999:alarm:live-5xx");
    foreign["Records"][0]["Sns"]["Message"] = json!(alarm.to_string());
    let mut direct = sample("direct");
    direct["alarmData"]["alarmName"] = json!("live-5xx");
    direct["region"] = json!("eu-west-1");
    for (event, why) in [
        (foreign, "from account 999999999999"),
        (direct, "from region eu-west-1"),
    ] {
        let out = run(&c, &event).await.unwrap();
        assert!(out.to_string().contains(why), "{out}");
        assert_eq!(c.weights(), Weights::with_candidate(Colour::Green, 10));
        assert_eq!(
            c.stored_ledger().deployment.unwrap().status,
            Status::Shifting
        );
    }
    // The same alarm from this account rolls back.
    run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
}

/// A step the rollback itself stopped (its shift found the ledger `RollingBack` and answered
/// `Aborted`) reaches the Catch and asks again: it joins the rollback, but is not one of its causes.
#[tokio::test]
async fn a_step_aborted_by_the_rollback_joins_without_becoming_a_source() {
    let c = canary_at_10().await;
    c.edit_ledger(|l| {
        l.claim_rollback("alarm live-5xx", "alarm", Some("alarm live-5xx via sns"), 3)
            .unwrap();
    })
    .await;
    let mut aborted = sample("catch");
    aborted["error"] = json!({"Error": "Aborted", "Cause": "deployment d1 is RollingBack"});
    run(&c, &aborted).await.unwrap();
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    let r = d.rollback.unwrap();
    assert_eq!(r.sources, vec!["alarm live-5xx via sns".to_string()]);
    // Any other failed step is a cause, and recorded.
    let c = canary_at_10().await;
    run(&c, &sample("catch")).await.unwrap();
    let r = c.stored_ledger().deployment.unwrap().rollback.unwrap();
    assert_eq!(r.sources.len(), 1);
    assert!(r.sources[0].starts_with("HealthFailed"), "{:?}", r.sources);
}

#[tokio::test]
async fn a_second_request_during_the_rollback_joins_its_record() {
    let c = canary_at_10().await;
    c.edit_ledger(|l| {
        l.claim_rollback("alarm live-5xx", "alarm", Some("alarm live-5xx via sns"), 3)
            .unwrap();
    })
    .await;
    run(&c, &sample("manual")).await.unwrap();
    let d = c.stored_ledger().deployment.unwrap();
    let r = d.rollback.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    assert_eq!(r.trigger, "alarm");
    assert_eq!(r.sources.len(), 2, "{:?}", r.sources);
}

#[tokio::test]
async fn ok_transitions_unknown_alarms_and_old_catches_touch_nothing() {
    let c = canary_at_10().await;
    let before = (c.stored_ledger(), c.weights());
    let out = run(&c, &sns("live-5xx", "OK")).await.unwrap();
    assert_eq!(out["ignored"], "state OK");
    let out = run(&c, &sns("someone-elses-alarm", "ALARM")).await.unwrap();
    assert_eq!(out["ignored"], "no service lists this alarm");
    let mut old = sample("catch");
    old["deploymentId"] = json!("older");
    assert_eq!(run(&c, &old).await.unwrap()["rolledBack"], false);
    assert_eq!((c.stored_ledger(), c.weights()), before);
    assert_eq!(*c.lb.writes.lock().unwrap(), 0);
    assert!(c.executions.stopped.lock().unwrap().is_empty());
}

#[tokio::test]
async fn malformed_events_are_invalid_input_naming_the_field() {
    let c = canary_at_10().await;
    let before = c.stored_ledger();
    let mut no_name = sns("live-5xx", "ALARM");
    no_name["Records"][0]["Sns"]["Message"] = json!(r#"{"NewStateValue": "ALARM"}"#);
    let cases = [
        (no_name, "Records[0].Sns.Message.AlarmName: is required"),
        (
            json!({"Records": [{"Sns": {}}]}),
            "Records[0].Sns.Message: is required",
        ),
        (
            json!({"alarmData": {"alarmName": "x"}}),
            "alarmData: not a CloudWatch alarm action",
        ),
        (json!({"env": "prod", "reason": "x"}), "app: is required"),
        (json!({"hello": 1}), "unrecognised event"),
    ];
    for (event, expected) in cases {
        let err = run(&c, &event).await.unwrap_err();
        assert_eq!(err.error_type, ErrorType::InvalidInput);
        assert!(
            err.reason.starts_with(expected),
            "{expected} vs {}",
            err.reason
        );
    }
    assert_eq!(c.stored_ledger(), before);
    assert_eq!(*c.lb.writes.lock().unwrap(), 0);
}

#[tokio::test]
async fn an_alarm_rolls_back_when_the_auto_rollback_flag_cannot_be_read() {
    let c = canary_at_10().await;
    c.flags.fail(cutover_aws::AwsError::Transient {
        operation: "GetLatestConfiguration",
        message: "AppConfig is unreachable".into(),
    });
    let out = run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    assert_eq!(out["rolledBack"], true, "{out}");
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RolledBack
    );
}

#[tokio::test]
async fn a_composite_alarms_direct_action_rolls_back() {
    // A composite alarm's event carries its rule instead of metrics (AWS's documented shape).
    let c = canary_at_10().await;
    c.targets
        .edit("live#prod", |t| t.alarms.push("live-event-slo".into()));
    let out = run(&c, &sample("composite")).await.unwrap();
    assert_eq!(out["rolledBack"], true, "{out}");
    let r = c.stored_ledger().deployment.unwrap().rollback.unwrap();
    assert_eq!(
        r.sources,
        vec!["alarm live-event-slo via direct".to_string()]
    );
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
}

#[tokio::test]
async fn with_auto_rollback_off_an_alarm_is_only_noted() {
    let c = canary_at_10().await;
    c.flags.set(Flags {
        auto_rollback: false,
        ..Flags::default()
    });
    let out = run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    assert_eq!(out["noted"], true);
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(
        (d.status, d.noted_alarms.clone()),
        (Status::Shifting, vec!["live-5xx".to_string()])
    );
    assert_eq!(c.weights(), Weights::with_candidate(Colour::Green, 10));
    // A person can still roll back.
    run(&c, &sample("manual")).await.unwrap();
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RolledBack
    );
}

#[tokio::test]
async fn the_candidate_is_kept_when_the_target_says_so() {
    let c = canary_at_10().await;
    c.targets
        .edit("live#prod", |t| t.keep_candidate_on_rollback = true);
    run(&c, &sample("manual")).await.unwrap();
    assert_eq!(c.services.get("svc-green").desired, 3);
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
}

#[tokio::test]
async fn a_late_shift_during_the_reassert_window_is_undone() {
    let c = canary_at_10().await;
    let settings = Settings {
        reassert_ms: 300,
        reassert_every_ms: 20,
        ..QUICK
    };
    let late_shift = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        c.set_weights(Weights::with_candidate(Colour::Green, 10));
    };
    let manual = sample("manual");
    let (out, ()) = tokio::join!(
        handle(&c, settings, &manual, &cutover_lambda::now_ms),
        late_shift
    );
    out.unwrap();
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(
        *c.lb.writes.lock().unwrap(),
        2,
        "the rollback's write and the re-assertion"
    );
}

/// `roll/prod`: a rolling-mode service `svc-roll` running td:9 with 4 tasks; the ledger's
/// last-known-good is td:8.
async fn rolling() -> FakeCloud {
    let c = FakeCloud::new();
    let target = cutover_core::AnyTarget::from_json(&json!({
        "mode": "rolling", "cluster": "live-event", "service": "svc-roll", "alarms": ["roll-5xx"]
    }))
    .unwrap();
    c.targets
        .0
        .lock()
        .unwrap()
        .insert("roll#prod".into(), target);
    c.services.add("svc-roll", "td:9", 4);
    let good = cutover_core::Release {
        task_definition_arn: "td:8".into(),
        image: "roll:8".into(),
    };
    let l = cutover_core::Ledger::new("roll", "prod", Colour::Blue, Some(good));
    assert!(cutover_aws::LedgerStore::save(&c.ledger, &l).await.unwrap());
    c
}

#[tokio::test]
async fn a_rolling_service_goes_back_to_its_last_known_good_task_definition() {
    let c = rolling().await;
    let out = run(&c, &sns("roll-5xx", "ALARM")).await.unwrap();
    assert_eq!(out["rolledBack"], true, "{out}");
    let s = c.services.get("svc-roll");
    assert_eq!((s.task_definition_arn.as_str(), s.desired), ("td:8", 4));
    let l = c.ledger.get("roll", "prod").unwrap();
    let r = l.last_rollback.clone().unwrap();
    assert_eq!(
        (r.trigger.as_str(), r.sources.clone()),
        ("alarm", vec!["alarm roll-5xx via sns".to_string()])
    );
    let again = run(&c, &sns("roll-5xx", "ALARM")).await.unwrap();
    assert_eq!(again["rolledBack"], false);
    assert_eq!(
        c.ledger.get("roll", "prod").unwrap(),
        l,
        "a repeat writes nothing"
    );
    assert_eq!(
        *c.lb.writes.lock().unwrap(),
        0,
        "no listener in rolling mode"
    );
}

#[tokio::test]
async fn a_rolling_service_without_a_last_known_good_is_refused_untouched() {
    let c = rolling().await;
    c.ledger
        .items
        .lock()
        .unwrap()
        .get_mut("roll#prod")
        .unwrap()
        .last_known_good = None;
    let err = run(
        &c,
        &json!({"app": "roll", "env": "prod", "reason": "bad release"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(err.reason.contains("no last-known-good"), "{}", err.reason);
    assert_eq!(c.services.get("svc-roll").task_definition_arn, "td:9");
}

#[tokio::test]
async fn an_event_bus_that_stalls_or_refuses_neither_fails_nor_holds_up_a_rollback() {
    for (stall, refuse) in [(true, false), (false, true)] {
        let c = canary_at_10().await;
        c.telemetry
            .stall
            .store(stall, std::sync::atomic::Ordering::SeqCst);
        c.telemetry
            .refuse
            .store(refuse, std::sync::atomic::Ordering::SeqCst);
        let out = run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
        assert_eq!(out["rolledBack"], true, "{out}");
        assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
        assert_eq!(
            c.stored_ledger().deployment.unwrap().status,
            Status::RolledBack
        );
        // The metrics do not go through the bus: the rollback is still counted, by trigger.
        assert_eq!(
            c.telemetry.values("DeploymentsRolledBack", Some("Trigger")),
            vec![(1.0, Some("alarm".into()))]
        );
        assert_eq!(c.telemetry.values("TimeToRollbackMs", None).len(), 1);
        let history = c.ledger.history.lock().unwrap();
        assert_eq!(history["live#prod"].len(), 1, "archived once");
    }
}

#[tokio::test]
async fn a_rollback_closes_the_test_route() {
    use cutover_aws::fakes::{sample_target, BLUE_TG, GREEN_TG, LISTENER};
    use cutover_core::target::HeaderRoute;
    use cutover_core::traffic::ForwardRoute;
    const TEST_LISTENER: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/3";
    let mut t = sample_target();
    t.test_listener_arn = Some(TEST_LISTENER.into());
    t.test_header = Some(HeaderRoute {
        name: "X-Cutover-Candidate".into(),
        value: "1".into(),
        priority: 10,
    });
    let c = FakeCloud::builder()
        .target(
            "live#prod",
            cutover_core::AnyTarget::BlueGreen(Box::new(t.clone())),
        )
        .build();
    c.lb.routes.lock().unwrap().insert(
        TEST_LISTENER.into(),
        ForwardRoute::for_weights(BLUE_TG, GREEN_TG, Weights::all_on(Colour::Blue)),
    );
    let mut l = cutover_core::Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire("d1", "live:2", None, 1).unwrap();
    use cutover_aws::LedgerStore;
    assert!(c.ledger.save(&l).await.unwrap());
    // The rule shift-traffic's open made, as the load balancer holds it.
    let rule = format!(
        "{}/1",
        LISTENER.replacen(":listener/", ":listener-rule/", 1)
    );
    let tags = [
        ("cutover:test-route", "live/prod"),
        ("cutover:deployment", "d1"),
    ];
    c.lb.rules.lock().unwrap().insert(
        rule.clone(),
        cutover_aws::fakes::FakeRule {
            listener_arn: LISTENER.into(),
            header: t.test_header.clone().unwrap(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
    );
    c.lb.routes.lock().unwrap().insert(
        TEST_LISTENER.into(),
        ForwardRoute::for_weights(BLUE_TG, GREEN_TG, Weights::all_on(Colour::Green)),
    );
    c.services.add("svc-green", "td:2", 3);

    run(&c, &sample("manual")).await.unwrap();
    assert!(
        c.lb.rules_on(LISTENER).is_empty(),
        "the header rule is gone"
    );
    let on_test =
        c.lb.route(TEST_LISTENER)
            .weights(BLUE_TG, GREEN_TG)
            .unwrap();
    assert_eq!(on_test, Weights::all_on(Colour::Blue));
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RolledBack
    );
}

fn with_after_rollback_hook(c: &FakeCloud) {
    c.targets.edit("live#prod", |t| {
        t.hooks.after_rollback = Some(cutover_core::target::Hook {
            function: "cutover-hook-cleanup".into(),
            timeout_seconds: 600,
        })
    });
}

#[tokio::test]
async fn the_after_rollback_hook_is_queued_once_after_traffic_is_restored() {
    let c = canary_at_10().await;
    with_after_rollback_hook(&c);
    run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    run(&c, &sns("live-5xx", "ALARM")).await.unwrap();
    let sent = c.hooks.notified.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "a repeated alarm does not run it again");
    let (function, payload) = &sent[0];
    assert_eq!(function, "cutover-hook-cleanup");
    assert_eq!(
        (
            &payload["stage"],
            &payload["deploymentId"],
            &payload["candidateColour"]
        ),
        (&json!("afterRollback"), &json!("d1"), &json!("green"))
    );
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    let h = &d.hooks[0];
    assert_eq!(
        (h.stage.as_str(), h.status.as_str()),
        ("afterRollback", "Invoked")
    );
}

#[tokio::test]
async fn the_after_rollback_hook_runs_when_a_step_had_already_claimed_the_rollback() {
    let c = canary_at_10().await;
    with_after_rollback_hook(&c);
    // verify-health (a failed step or hook) turns the ledger RollingBack before the Catch runs.
    c.edit_ledger(|l| {
        l.begin_rollback("HookFailed: beforeAllowTraffic hook: no", 3)
            .unwrap();
    })
    .await;
    run(&c, &sample("catch")).await.unwrap();
    run(&c, &sample("catch")).await.unwrap();
    assert_eq!(c.hooks.notified.lock().unwrap().len(), 1);
    assert_eq!(
        c.stored_ledger().deployment.unwrap().hooks[0].status,
        "Invoked"
    );
}

#[tokio::test]
async fn an_experiments_rollback_ends_its_stickiness_in_the_same_write() {
    use cutover_aws::fakes::LISTENER;
    use cutover_core::experiment::{ExperimentRecord, ExperimentSpec};
    use cutover_core::Stickiness;
    let c = FakeCloud::prepared().await;
    let spec = ExperimentSpec::from_json(
        &json!({"split": 50, "durationSeconds": 600, "metric": "N:M:Average"}),
    )
    .unwrap();
    c.edit_ledger(|l| {
        l.start_experiment("d1", ExperimentRecord::new(spec, None))
            .unwrap();
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 50), 2)
            .unwrap();
    })
    .await;
    c.set_weights(Weights::new(50, 50).unwrap());
    c.set_stickiness(Some(Stickiness {
        enabled: true,
        duration_seconds: Some(600),
    }));
    let writes = *c.lb.writes.lock().unwrap();
    let event = json!({"app": "live", "env": "prod", "reason": "5XX breach during the experiment"});
    run(&c, &event).await.unwrap();
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(*c.lb.writes.lock().unwrap(), writes + 1);
    // The listener had no stickiness before the experiment: it has none enabled after.
    assert_eq!(
        c.lb.route(LISTENER).stickiness,
        Some(Stickiness {
            enabled: false,
            duration_seconds: None
        })
    );
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::RolledBack
    );
}
