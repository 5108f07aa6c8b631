//! `cutover drill` (issue 19, item 3): a canary of the live image with a fault, detected and rolled
//! back, its report printed and in the history; refused while deployments are frozen.

use super::{cutover, text};
use cutover_core::{Status, Weights};
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::json;

/// The image the ledger says is live, deploying a good one first when none is known yet.
async fn live_image(c: &LocalCloud) -> String {
    c.live_colour().await;
    if let Some(r) = c.ledger().await.and_then(|l| l.last_known_good) {
        return r.image;
    }
    let id = unique("drillbase");
    let image = format!("public.ecr.aws/live-event/service:{id}");
    let strategy =
        json!({"steps": [{"weight": 20, "bakeSeconds": 300}, {"weight": 100, "bakeSeconds": 0}]});
    c.deploy(&id, &image, strategy, None, || async {}).await;
    c.ledger().await.unwrap().last_known_good.unwrap().image
}

#[tokio::test]
async fn an_errors_drill_is_detected_rolled_back_and_reported_in_the_history() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let image = live_image(&c).await;
    let live = c.live_colour().await;
    let id = unique("drill-");
    let since_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let out = cutover(
        &c,
        &[
            "drill", "--app", &app, "--env", &env, "--fault", "errors", "--weight", "10", "--id",
            &id,
        ],
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains(&format!("drill {id}: errors at 10 %: detected")),
        "{log}"
    );
    assert!(log.contains("detection time "), "{log}");

    let ledger = c.ledger().await.unwrap();
    let d = ledger.deployment.as_ref().unwrap();
    assert_eq!((d.id.as_str(), d.status), (id.as_str(), Status::RolledBack));
    assert_eq!(d.image, image, "a drill deploys the live image");
    assert_eq!(ledger.live_colour, live);
    assert_eq!(ledger.last_known_good.as_ref().unwrap().image, image);
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
    // The candidate revision differs from the live one by the fault variable only.
    let td = c
        .ecs
        .describe_task_definition()
        .task_definition(&d.release.as_ref().unwrap().task_definition_arn)
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap();
    let container = &td.container_definitions()[0];
    assert_eq!(container.image(), Some(image.as_str()));
    assert!(
        container
            .environment()
            .iter()
            .any(|v| v.name() == Some("CUTOVER_DRILL_FAULT") && v.value() == Some("errors")),
        "{container:?}"
    );

    let records = c.history_records(&id, since_ms).await;
    assert_eq!(records.len(), 1, "one history record of {id}");
    let report = &records[0];
    let report: serde_json::Value =
        serde_dynamo::from_attribute_value(report["drillReport"].clone()).unwrap();
    assert_eq!(report["detected"], true, "{report}");
    assert!(report["detectionMs"].as_u64().is_some(), "{report}");
    assert!(report["rollbackMs"].as_u64().is_some(), "{report}");
    assert!(report["requests"].as_u64().unwrap() > 0, "{report}");
    assert!(report["failed"].as_u64().unwrap() > 0, "{report}");
}

/// What a refused drill must leave as it found it: the ledger's deployment and the listener.
struct Untouched {
    deployment: Option<String>,
    weights: Weights,
}

impl Untouched {
    async fn now(c: &LocalCloud) -> Untouched {
        Untouched {
            deployment: c.ledger().await.unwrap().deployment.map(|d| d.id),
            weights: c.listener_weights().await,
        }
    }

    async fn still(&self, c: &LocalCloud) {
        let after = c.ledger().await.unwrap().deployment.map(|d| d.id);
        assert_eq!(after, self.deployment);
        assert_eq!(c.listener_weights().await, self.weights);
    }
}

#[tokio::test]
async fn a_drill_while_deployments_are_frozen_is_refused_and_moves_nothing() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    live_image(&c).await;
    let before = Untouched::now(&c).await;
    c.set_flags(true).await;
    // prepare honours AppConfig's poll interval (15 s): a warm function sees the flag after that.
    let poll = std::time::Duration::from_secs(16);
    tokio::time::sleep(poll).await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let id = unique("drill-frozen-");
    let out = cutover(&c, &["drill", "--app", &app, "--env", &env, "--id", &id]);
    c.set_flags(false).await;
    tokio::time::sleep(poll).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).to_lowercase().contains("frozen"),
        "{}",
        text(&out)
    );
    before.still(&c).await;
}

/// The local stack has no FIS experiment template (no DrillAlarmArn: no emulator has FIS), which is
/// the case of any stack deployed without one: the drill is refused before anything starts.
#[tokio::test]
async fn a_stop_tasks_drill_without_the_stacks_fis_template_is_refused_and_moves_nothing() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    live_image(&c).await;
    let before = Untouched::now(&c).await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let id = unique("drill-fis-");
    let out = cutover(
        &c,
        &[
            "drill",
            "--app",
            &app,
            "--env",
            &env,
            "--fault",
            "stop-tasks",
            "--id",
            &id,
        ],
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(4), "{log}");
    assert!(log.contains("no FIS experiment template"), "{log}");
    assert!(log.contains("DrillAlarmArn"), "{log}");
    before.still(&c).await;
}
