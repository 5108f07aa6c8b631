//! Automated rollback in the local cloud: alarm → SNS → rollback function, duplicate and concurrent
//! deliveries, the shift/rollback race, and the events that must change nothing.

use cutover_core::{Status, Weights};
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::{json, Value};

/// A bake long enough to act during: 400 s, 12 s at the tests' wait scale.
fn slow_canary() -> Value {
    json!({"steps": [{"weight": 10, "bakeSeconds": 400}, {"weight": 100, "bakeSeconds": 0}]})
}

#[tokio::test]
async fn a_breaching_metric_mid_bake_fires_the_alarm_and_the_rollback_aborts_the_execution() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let alarm = c.seeded("alarmName");
    let id = unique("breach");
    let run = c
        .deploy(
            &id,
            &format!("public.ecr.aws/live-event/service:{id}"),
            slow_canary(),
            Some(Weights::with_candidate(live.other(), 10)),
            || c.breach_5xx_alarm(),
        )
        .await;
    c.settle_5xx_alarm().await;
    assert_eq!(run.status, "ABORTED", "{:?} {:?}", run.error, run.cause);
    assert_eq!(run.error.as_deref(), Some("CutoverRollback"));
    assert!(run.cause.unwrap_or_default().contains(&alarm));
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    let most = run.observed.iter().map(|w| w.of(live.other())).max();
    assert_eq!(most, Some(10), "{:?}", run.observed);
    let l = c.ledger().await.unwrap();
    let d = l.deployment.unwrap();
    assert_eq!((d.status, l.live_colour), (Status::RolledBack, live));
    assert!(d.reason.unwrap().contains(&alarm));
    let r = d.rollback.expect("a rollback record");
    assert_eq!(r.trigger, "alarm");
    assert_eq!(r.sources, vec![format!("alarm {alarm} via sns")]);
    assert!(r.traffic_restored_at_ms.unwrap() >= r.requested_at_ms);
}

#[tokio::test]
async fn three_deliveries_and_a_second_alarm_at_once_give_one_rollback() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let names: Vec<String> = c.seed["alarmNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let id = unique("dup");
    let events = [
        c.sns_alarm(&names[0], "ALARM"),
        c.sns_alarm(&names[0], "ALARM"),
        c.sns_alarm(&names[0], "ALARM"),
        c.sns_alarm(&names[1], "ALARM"),
    ];
    let mut outcomes = Vec::new();
    let run = c
        .deploy(
            &id,
            &format!("public.ecr.aws/live-event/service:{id}"),
            slow_canary(),
            Some(Weights::with_candidate(live.other(), 10)),
            || async {
                let (a, b, d, e) = tokio::join!(
                    c.rollback(&events[0]),
                    c.rollback(&events[1]),
                    c.rollback(&events[2]),
                    c.rollback(&events[3])
                );
                outcomes = vec![a, b, d, e];
            },
        )
        .await;
    assert_eq!(run.status, "ABORTED", "{:?} {:?}", run.error, run.cause);
    for o in &outcomes {
        assert_eq!(o.error_type, None, "{}", o.payload);
    }
    let first: Vec<&Value> = outcomes
        .iter()
        .map(|o| &o.payload)
        .filter(|p| p["startedHere"] == true)
        .collect();
    assert_eq!(
        first.len(),
        1,
        "exactly one delivery starts the rollback: {outcomes:#?}",
        outcomes = outcomes.iter().map(|o| &o.payload).collect::<Vec<_>>()
    );
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    let d = c.ledger().await.unwrap().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack);
    let r = d.rollback.unwrap();
    let mut sources = r.sources.clone();
    sources.dedup();
    assert_eq!(sources, r.sources, "each source once: {:?}", r.sources);
    assert!(r.sources.len() <= 2, "{:?}", r.sources);
}

/// xorshift: random enough for delays, no dependency, and the seed is printed for a re-run.
fn delays(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % 60
    }
}

#[tokio::test]
async fn a_shift_racing_a_rollback_always_ends_all_live_and_rolled_back() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("race seed {seed}");
    let mut next = delays(seed);
    let runs = std::env::var("RACE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let mut shift_won = 0;
    for run in 0..runs {
        let id = unique(&format!("race{run}-"));
        let prepared = c.prepare(&id).await;
        assert_eq!(prepared.error_type, None, "prepare: {}", prepared.payload);
        let weight = [10u8, 50, 100][run % 3];
        let (shift_delay, rollback_delay) = (next(), next());
        let manual = json!({"app": app, "env": env, "reason": format!("race run {run}")});
        let (shift, rollback) = tokio::join!(
            async {
                tokio::time::sleep(std::time::Duration::from_millis(shift_delay)).await;
                c.shift(&id, 0, weight).await
            },
            async {
                tokio::time::sleep(std::time::Duration::from_millis(rollback_delay)).await;
                c.rollback(&manual).await
            }
        );
        assert_eq!(
            rollback.error_type, None,
            "run {run}: rollback {}",
            rollback.payload
        );
        if shift.error_type.is_none() {
            shift_won += 1;
        } else {
            assert_eq!(
                shift.error_type.as_deref(),
                Some("Aborted"),
                "run {run}: {}",
                shift.payload
            );
        }
        assert_eq!(
            c.listener_weights().await,
            Weights::all_on(live),
            "run {run} (seed {seed}, shift {weight}% after {shift_delay} ms, rollback after {rollback_delay} ms)"
        );
        let d = c.ledger().await.unwrap().deployment.unwrap();
        assert_eq!(
            (d.id.as_str(), d.status),
            (id.as_str(), Status::RolledBack),
            "run {run}"
        );
    }
    println!(
        "{runs} races: the shift landed first in {shift_won}, was refused in {}",
        runs - shift_won
    );
}

#[tokio::test]
async fn foreign_alarms_ok_transitions_and_malformed_events_change_nothing() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let id = unique("untouched");
    assert_eq!(c.prepare(&id).await.error_type, None);
    assert_eq!(c.shift(&id, 0, 10).await.error_type, None);
    let services = c.seed["services"].clone();
    let snapshot = || async {
        let mut ecs = Vec::new();
        for colour in ["blue", "green"] {
            let s = c.service(services[colour].as_str().unwrap()).await;
            ecs.push((s.desired_count(), s.task_definition().map(String::from)));
        }
        (c.ledger().await, c.listener_weights().await, ecs)
    };
    let before = snapshot().await;
    let mut malformed = c.sns_alarm("x", "ALARM");
    malformed["Records"][0]["Sns"]["Message"] = json!(r#"{"NewStateValue": "ALARM"}"#);
    let cases = [
        (
            c.sns_alarm("another-teams-alarm", "ALARM"),
            None,
            "no service lists this alarm",
        ),
        (c.sns_alarm(&c.seeded("alarmName"), "OK"), None, "state OK"),
        (
            malformed,
            Some("InvalidInput"),
            "Records[0].Sns.Message.AlarmName: is required",
        ),
    ];
    for (event, error, expected) in cases {
        let out = c.rollback(&event).await;
        assert_eq!(out.error_type.as_deref(), error, "{}", out.payload);
        assert!(
            out.payload.to_string().contains(expected),
            "{expected} in {}",
            out.payload
        );
    }
    assert_eq!(snapshot().await, before, "nothing may change");

    let cleanup =
        json!({"app": c.seeded("app"), "env": c.seeded("env"), "reason": "scenario cleanup"});
    assert_eq!(c.rollback(&cleanup).await.error_type, None);
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
}

/// Rolling mode, as the service runs today: one ECS service updated in place, no second target group.
/// A bad revision went out; its alarm arrives through SNS and the service goes back to the ledger's
/// last-known-good task definition, keeping its task count.
#[tokio::test]
async fn a_rolling_service_is_put_back_on_its_last_known_good_task_definition() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let (app, cluster) = ("live-event-rolling", c.seeded("cluster"));
    let service = format!("{app}-{}", unique(""));
    let good = c.seeded("taskDefinitionArn");
    let td = c
        .ecs
        .describe_task_definition()
        .task_definition(&good)
        .send()
        .await
        .expect("DescribeTaskDefinition")
        .task_definition
        .unwrap();
    let mut bad_container = td.container_definitions()[0].clone();
    bad_container.image = Some("public.ecr.aws/live-event/service:rolling-bad".into());
    let bad = c
        .ecs
        .register_task_definition()
        .family(td.family().unwrap())
        .container_definitions(bad_container)
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition
        .unwrap()
        .task_definition_arn
        .unwrap();
    c.ecs
        .create_service()
        .cluster(&cluster)
        .service_name(&service)
        .task_definition(&bad)
        .desired_count(3)
        .send()
        .await
        .expect("CreateService");
    let target = json!({"mode": "rolling", "cluster": cluster, "service": service, "alarms": ["live-event-rolling-5xx"]});
    c.ssm
        .put_parameter()
        .name(format!("/cutover/{app}/prod/target"))
        .value(target.to_string())
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter");
    let release = cutover_core::Release {
        task_definition_arn: good.clone(),
        image: "public.ecr.aws/live-event/service:1.0.0".into(),
    };
    let mut ledger =
        cutover_core::Ledger::new(app, "prod", cutover_core::Colour::Blue, Some(release));
    // As Cutover's own first write leaves it: version 1 (0 means "no item yet" to the store).
    ledger.version = 1;
    let mut item: std::collections::HashMap<String, AttributeValue> =
        serde_dynamo::to_item(&ledger).unwrap();
    item.insert("pk".into(), AttributeValue::S(format!("{app}#prod")));
    item.insert("sk".into(), AttributeValue::S("LEDGER".into()));
    c.dynamodb
        .put_item()
        .table_name(c.output("LedgerTableName"))
        .set_item(Some(item))
        .send()
        .await
        .expect("PutItem");

    let out = c
        .rollback(&c.sns_alarm("live-event-rolling-5xx", "ALARM"))
        .await;
    assert_eq!(out.error_type, None, "{}", out.payload);
    assert_eq!(out.payload["mode"], "rolling", "{}", out.payload);
    let s = c.service(&service).await;
    assert_eq!(
        (s.task_definition(), s.desired_count()),
        (Some(good.as_str()), 3)
    );
    let again = c
        .rollback(&c.sns_alarm("live-event-rolling-5xx", "ALARM"))
        .await;
    assert_eq!(again.payload["rolledBack"], false, "{}", again.payload);
}
