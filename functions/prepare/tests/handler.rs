//! prepare over in-memory ports: what it claims, registers and starts, and what it refuses.

use cutover_aws::fakes::FakeCloud;
use cutover_core::{Colour, ErrorType, Failure, Flags, Status, Weights};
use prepare::handle;
use serde_json::{json, Value};

async fn prepare(c: &FakeCloud, event: Value) -> Result<Value, Failure> {
    let out = handle(c, &event, 1_000).await;
    c.assert_calls_within(prepare::CALLS);
    out
}

fn start(id: &str) -> Value {
    json!({"app": "live", "env": "prod", "image": "live:2.0.0", "deploymentId": id})
}

#[tokio::test]
async fn claims_the_ledger_and_starts_the_idle_colour_on_the_new_image() {
    let c = FakeCloud::new();
    let out = prepare(&c, start("abc123")).await.unwrap();
    assert_eq!(
        (out["live"].as_str(), out["candidate"].as_str()),
        (Some("blue"), Some("green"))
    );
    assert_eq!(
        out["plan"],
        json!([{"stepIndex": 0, "weight": 10, "bakeSeconds": 300}, {"stepIndex": 1, "weight": 100, "bakeSeconds": 0}])
    );
    let green = c.services.get("svc-green");
    assert_eq!(
        (green.task_definition_arn.as_str(), green.desired),
        ("td:1+1", 3)
    );
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(
        (d.status, d.candidate, d.release.unwrap().image.as_str()),
        (Status::Preparing, Colour::Green, "live:2.0.0")
    );
    assert_eq!(
        *c.lb.writes.lock().unwrap(),
        0,
        "prepare never moves traffic"
    );
}

#[tokio::test]
async fn a_retried_prepare_after_a_rollback_began_starts_nothing() {
    let c = FakeCloud::new();
    prepare(&c, start("abc123")).await.unwrap();
    // The rollback claims the ledger and scales the candidate down; then Step Functions retries.
    c.edit_ledger(|l| {
        l.begin_rollback("alarm live-5xx", 2).unwrap();
    })
    .await;
    c.services.add("svc-green", "td:1+1", 0);
    let err = prepare(&c, start("abc123")).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Aborted, "{err}");
    assert_eq!(c.services.get("svc-green").desired, 0, "scaled up again");
    assert_eq!(c.services.registered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_prepare_denied_after_its_claim_releases_the_service() {
    let c = FakeCloud::new();
    *c.services.register_failure.lock().unwrap() = Some(cutover_aws::AwsError::AccessDenied {
        operation: "RegisterTaskDefinition",
        message: "not authorized to perform: ecs:RegisterTaskDefinition".into(),
    });
    let err = prepare(&c, start("abc123")).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::AccessDenied);
    assert!(
        err.reason.contains("ecs:RegisterTaskDefinition"),
        "{}",
        err.reason
    );
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(
        d.status,
        Status::Failed,
        "the claim must not outlive the failure"
    );
    assert!(d.reason.unwrap().contains("RegisterTaskDefinition"));
    assert_eq!(c.services.get("svc-green").desired, 0);
    // The next deployment is not refused as "being deployed".
    *c.services.register_failure.lock().unwrap() = None;
    prepare(&c, start("def456")).await.unwrap();
    assert_eq!(c.stored_ledger().deployment.unwrap().id, "def456");
}

#[tokio::test]
async fn a_retried_prepare_registers_nothing_new() {
    let c = FakeCloud::new();
    let first = prepare(&c, start("abc123")).await.unwrap();
    let again = prepare(&c, start("abc123")).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(c.services.registered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_deployment_conflicts_and_changes_nothing() {
    let c = FakeCloud::new();
    prepare(&c, start("abc123")).await.unwrap();
    let ledger = c.stored_ledger();
    let err = prepare(&c, start("def456")).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(c.stored_ledger(), ledger);
    assert_eq!(c.services.registered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn frozen_deployments_are_refused_before_anything_changes() {
    let c = FakeCloud::builder()
        .flags(Flags {
            deployments_frozen: true,
            auto_rollback: true,
        })
        .build();
    let err = prepare(&c, start("abc123")).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Frozen);
    assert!(c.ledger.get("live", "prod").is_none());
    assert_eq!(c.services.get("svc-green").desired, 0);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let c = FakeCloud::new();
    for (event, field) in [
        (
            json!({"env": "prod", "image": "x", "deploymentId": "a"}),
            "app",
        ),
        (
            json!({"app": "live", "env": "prod", "image": "x y", "deploymentId": "a"}),
            "image",
        ),
        (
            json!({"app": "live", "env": "prod", "image": "x", "deploymentId": "a;b"}),
            "deploymentId",
        ),
        (
            json!({"app": "live", "env": "prod", "image": "x", "deploymentId": "a", "strategy": "Fast"}),
            "strategy",
        ),
        (
            json!({"app": "nope", "env": "prod", "image": "x", "deploymentId": "a"}),
            "unknown service",
        ),
    ] {
        let err = prepare(&c, event.clone()).await.unwrap_err();
        assert_eq!(err.error_type, ErrorType::InvalidInput, "{event}");
        assert!(err.reason.contains(field), "{field} not in {}", err.reason);
    }
    assert!(c.ledger.get("live", "prod").is_none());
}

#[tokio::test]
async fn a_listener_caught_mid_shift_is_a_conflict() {
    let c = FakeCloud::new();
    c.set_weights(Weights::new(50, 50).unwrap());
    assert_eq!(
        prepare(&c, start("abc123")).await.unwrap_err().error_type,
        ErrorType::Conflict
    );
}

#[test]
fn the_sample_event_parses() {
    let sample: Value = serde_json::from_str(include_str!("../../../events/prepare.json")).unwrap();
    let req = prepare::PrepareRequest::from_event(&sample).unwrap();
    assert_eq!(req.deployment_id, "9f2c1e7");
    assert_eq!(req.strategy.unwrap().plan().len(), 2);
}

#[tokio::test]
async fn the_state_machine_wrapping_records_the_execution_for_a_rollback_to_stop() {
    let c = FakeCloud::new();
    let wrapped = json!({"input": start("abc123"), "executionArn": "arn:aws:states:us-east-1:1:execution:deploy:x"});
    prepare(&c, wrapped).await.unwrap();
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(
        d.execution_arn.as_deref(),
        Some("arn:aws:states:us-east-1:1:execution:deploy:x")
    );
}

#[tokio::test]
async fn a_plan_that_would_outgrow_the_execution_history_is_refused_before_the_claim() {
    let c = FakeCloud::new();
    let steps: Vec<Value> = (1..=100)
        .map(|w| json!({"weight": w, "bakeSeconds": 86_400}))
        .collect();
    let mut event = start("abc123");
    event["strategy"] = json!({ "steps": steps });
    let err = prepare(&c, event).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(
        err.reason.starts_with("strategy:") && err.reason.contains("history events"),
        "{}",
        err.reason
    );
    assert!(c.ledger.get("live", "prod").is_none(), "nothing is claimed");
    assert_eq!(c.services.registered.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn an_experiment_plans_its_split_and_records_the_listeners_stickiness() {
    use cutover_core::Stickiness;
    let c = FakeCloud::new();
    let sticky = Stickiness {
        enabled: true,
        duration_seconds: Some(60),
    };
    c.set_stickiness(Some(sticky.clone()));
    let mut event: Value =
        serde_json::from_str(include_str!("../../../events/prepare-experiment.json")).unwrap();
    event["app"] = json!("live");
    let writes = *c.lb.writes.lock().unwrap();
    let out = prepare(&c, event).await.unwrap();
    assert_eq!(
        out["plan"],
        json!([{"stepIndex": 0, "weight": 50, "bakeSeconds": 7200}])
    );
    assert_eq!(out["experiment"]["split"], 50);
    let e = c.stored_ledger().deployment.unwrap().experiment.unwrap();
    assert_eq!(e.previous_stickiness, Some(sticky));
    assert_eq!(
        e.spec.metric.to_string(),
        "LiveEvent/Business:Conversion:Average"
    );
    assert_eq!(
        *c.lb.writes.lock().unwrap(),
        writes,
        "prepare moves no traffic"
    );
}

#[tokio::test]
async fn a_bad_experiment_or_one_with_a_strategy_is_refused_before_anything_changes() {
    let c = FakeCloud::new();
    for (experiment, says) in [
        (
            json!({"split": 0, "durationSeconds": 600, "metric": "N:M:Average"}),
            "experiment.split",
        ),
        (
            json!({"split": 20, "durationSeconds": 600, "metric": "N:M:Sum"}),
            "experiment.metric",
        ),
        (
            json!({"split": 20, "durationSeconds": 600, "metric": "N:M:Average", "stickinessSeconds": 604801}),
            "experiment.stickinessSeconds",
        ),
    ] {
        let mut event = start("e1");
        event["experiment"] = experiment;
        let e = prepare(&c, event).await.unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidInput);
        assert!(e.reason.starts_with(says), "{}", e.reason);
    }
    let mut event = start("e1");
    event["experiment"] = json!({"split": 20, "durationSeconds": 600, "metric": "N:M:Average"});
    event["strategy"] = json!("AllAtOnce");
    let e = prepare(&c, event).await.unwrap_err();
    assert!(e.reason.contains("not both"), "{}", e.reason);
    assert!(c.ledger.get("live", "prod").is_none(), "nothing is claimed");
}

fn with_live(c: &FakeCloud, image: &str) {
    let release = cutover_core::Release {
        task_definition_arn: "td:1".into(),
        image: image.into(),
    };
    c.ledger.put(&cutover_core::Ledger::new(
        "live",
        "prod",
        Colour::Blue,
        Some(release),
    ));
}

fn drill(image: &str, fault: &str) -> Value {
    json!({"app": "live", "env": "prod", "image": image, "deploymentId": "drill-1",
           "strategy": {"steps": [{"weight": 10, "bakeSeconds": 300}, {"weight": 100, "bakeSeconds": 0}]},
           "drill": {"fault": fault}})
}

#[tokio::test]
async fn a_drill_registers_the_live_image_with_the_fault_variable_and_records_its_ceiling() {
    let c = FakeCloud::new();
    with_live(&c, "live:1.0.0");
    prepare(&c, drill("live:1.0.0", "errors")).await.unwrap();
    assert_eq!(
        *c.services.environments.lock().unwrap(),
        vec![vec![(
            "CUTOVER_DRILL_FAULT".to_string(),
            "errors".to_string()
        )]]
    );
    let d = c.stored_ledger().deployment.unwrap();
    let record = d.drill.unwrap();
    assert_eq!(
        (record.fault.as_str(), record.ceiling_percent),
        ("errors", 10)
    );
    // An ordinary deployment adds nothing to the revision, nor a drill whose fault comes from
    // outside the application (FIS stops its tasks).
    let c = FakeCloud::new();
    prepare(&c, start("abc123")).await.unwrap();
    assert_eq!(*c.services.environments.lock().unwrap(), vec![vec![]]);
    let c = FakeCloud::new();
    with_live(&c, "live:1.0.0");
    prepare(&c, drill("live:1.0.0", "stop-tasks"))
        .await
        .unwrap();
    assert_eq!(*c.services.environments.lock().unwrap(), vec![vec![]]);
    let record = c.stored_ledger().deployment.unwrap().drill.unwrap();
    assert_eq!(record.fault.as_str(), "stop-tasks");
}

#[tokio::test]
async fn a_drill_of_another_image_or_without_a_canary_is_refused_before_anything_changes() {
    for (event, field) in [
        (drill("live:2.0.0", "errors"), "image"),
        (drill("live:1.0.0", "stop-everything"), "drill.fault"),
        (
            json!({"app": "live", "env": "prod", "image": "live:1.0.0", "deploymentId": "drill-1",
                   "strategy": "AllAtOnce", "drill": {"fault": "errors"}}),
            "drill",
        ),
    ] {
        let c = FakeCloud::new();
        with_live(&c, "live:1.0.0");
        let before = c.stored_ledger();
        let err = prepare(&c, event).await.unwrap_err();
        assert_eq!(err.error_type, ErrorType::InvalidInput, "{}", err.reason);
        assert!(err.reason.starts_with(field), "{field}: {}", err.reason);
        assert_eq!(c.stored_ledger(), before);
        assert!(c.services.registered.lock().unwrap().is_empty());
    }
}
