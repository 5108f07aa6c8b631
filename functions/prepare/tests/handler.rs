//! prepare over in-memory ports: what it claims, registers and starts, and what it refuses.

use cutover_aws::fakes::{FakeLb, FakeServices, MemoryLedger, StaticFlags, StaticTargets};
use cutover_core::traffic::ForwardRoute;
use cutover_core::{Colour, ErrorType, Flags, Status, TargetConfig, Weights};
use prepare::{handle, Ports};
use serde_json::{json, Value};
use std::collections::HashMap;

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/live/1/2";
const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/2";

struct World {
    lb: FakeLb,
    ledger: MemoryLedger,
    targets: StaticTargets,
    flags: StaticFlags,
    services: FakeServices,
}

fn world(flags: Flags) -> World {
    let target = TargetConfig::from_json(&json!({
        "cluster": "live-event",
        "services": {"blue": "svc-blue", "green": "svc-green"},
        "containerName": "app",
        "listenerArn": LISTENER,
        "targetGroups": {"blue": BLUE, "green": GREEN},
        "loadBalancer": "app/live/1",
        "defaultStrategy": "Canary10Percent5Minutes"
    }))
    .unwrap();
    let services = FakeServices::default();
    services.add("svc-blue", "td:1", 3);
    services.add("svc-green", "td:1", 0);
    World {
        lb: FakeLb::with(
            LISTENER,
            ForwardRoute::for_weights(BLUE, GREEN, Weights::all_on(Colour::Blue)),
        ),
        ledger: MemoryLedger::default(),
        targets: StaticTargets(HashMap::from([("live#prod".to_string(), target)])),
        flags: StaticFlags(flags),
        services,
    }
}

async fn prepare(w: &World, event: Value) -> Result<Value, cutover_core::Failure> {
    let ports = Ports {
        lb: &w.lb,
        ledger: &w.ledger,
        targets: &w.targets,
        flags: &w.flags,
        services: &w.services,
    };
    handle(&ports, &event, 1_000).await
}

fn start(id: &str) -> Value {
    json!({"app": "live", "env": "prod", "image": "live:2.0.0", "deploymentId": id})
}

#[tokio::test]
async fn claims_the_ledger_and_starts_the_idle_colour_on_the_new_image() {
    let w = world(Flags::default());
    let out = prepare(&w, start("abc123")).await.unwrap();
    assert_eq!(
        (out["live"].as_str(), out["candidate"].as_str()),
        (Some("blue"), Some("green"))
    );
    assert_eq!(
        out["plan"],
        json!([{"stepIndex": 0, "weight": 10, "bakeSeconds": 300}, {"stepIndex": 1, "weight": 100, "bakeSeconds": 0}])
    );
    let green = w.services.get("svc-green");
    assert_eq!(
        (green.task_definition_arn.as_str(), green.desired),
        ("td:1+1", 3)
    );
    let d = w.ledger.get("live", "prod").unwrap().deployment.unwrap();
    assert_eq!(
        (d.status, d.candidate, d.release.unwrap().image.as_str()),
        (Status::Preparing, Colour::Green, "live:2.0.0")
    );
    assert_eq!(
        *w.lb.writes.lock().unwrap(),
        0,
        "prepare never moves traffic"
    );
}

#[tokio::test]
async fn a_retried_prepare_registers_nothing_new() {
    let w = world(Flags::default());
    let first = prepare(&w, start("abc123")).await.unwrap();
    let again = prepare(&w, start("abc123")).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(w.services.registered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_deployment_conflicts_and_changes_nothing() {
    let w = world(Flags::default());
    prepare(&w, start("abc123")).await.unwrap();
    let ledger = w.ledger.get("live", "prod");
    let err = prepare(&w, start("def456")).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(w.ledger.get("live", "prod"), ledger);
    assert_eq!(w.services.registered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn frozen_deployments_are_refused_before_anything_changes() {
    let w = world(Flags {
        deployments_frozen: true,
        auto_rollback: true,
    });
    let err = prepare(&w, start("abc123")).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Frozen);
    assert!(w.ledger.get("live", "prod").is_none());
    assert_eq!(w.services.get("svc-green").desired, 0);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let w = world(Flags::default());
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
        let err = prepare(&w, event.clone()).await.unwrap_err();
        assert_eq!(err.error_type, ErrorType::InvalidInput, "{event}");
        assert!(err.reason.contains(field), "{field} not in {}", err.reason);
    }
    assert!(w.ledger.get("live", "prod").is_none());
}

#[tokio::test]
async fn a_listener_caught_mid_shift_is_a_conflict() {
    let w = world(Flags::default());
    w.lb.routes.lock().unwrap().insert(
        LISTENER.into(),
        ForwardRoute::for_weights(BLUE, GREEN, Weights::new(50, 50).unwrap()),
    );
    assert_eq!(
        prepare(&w, start("abc123")).await.unwrap_err().error_type,
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
