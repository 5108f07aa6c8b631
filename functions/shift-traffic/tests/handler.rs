//! The handler over an in-memory load balancer: validation before any call, idempotence, conflicts.

use cutover_aws::{AwsError, LoadBalancer};
use cutover_core::traffic::{ForwardRoute, RouteRef, Weights};
use cutover_core::ErrorType;
use serde_json::{json, Value};
use shift_traffic::{handle, Settings};
use std::sync::Mutex;

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/2";
const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2";

struct FakeLb {
    route: Mutex<ForwardRoute>,
    calls: Mutex<Vec<&'static str>>,
    /// Simulates another writer: what the listener holds right after our write.
    overwrite_with: Option<ForwardRoute>,
}

impl FakeLb {
    fn at(blue: u64, green: u64) -> FakeLb {
        FakeLb {
            route: Mutex::new(ForwardRoute::for_weights(
                BLUE,
                GREEN,
                Weights::new(blue, green).unwrap(),
            )),
            calls: Mutex::new(vec![]),
            overwrite_with: None,
        }
    }
    fn weights(&self) -> Weights {
        self.route.lock().unwrap().weights(BLUE, GREEN).unwrap()
    }
    fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap().clone()
    }
}

impl LoadBalancer for FakeLb {
    async fn forward_route(&self, at: &RouteRef) -> Result<ForwardRoute, AwsError> {
        assert_eq!(at.arn(), LISTENER);
        self.calls.lock().unwrap().push("read");
        Ok(self.route.lock().unwrap().clone())
    }
    async fn set_forward_route(
        &self,
        _at: &RouteRef,
        route: &ForwardRoute,
    ) -> Result<(), AwsError> {
        self.calls.lock().unwrap().push("write");
        *self.route.lock().unwrap() = self.overwrite_with.clone().unwrap_or_else(|| route.clone());
        Ok(())
    }
}

fn settings() -> Settings {
    let env = |k: &str| match k {
        "LISTENER_ARN" => Some(LISTENER.to_string()),
        "BLUE_TARGET_GROUP_ARN" => Some(BLUE.to_string()),
        "GREEN_TARGET_GROUP_ARN" => Some(GREEN.to_string()),
        _ => None,
    };
    Settings::from_env(env).unwrap()
}

#[tokio::test]
async fn shifts_and_reads_back() {
    let lb = FakeLb::at(100, 0);
    let out = handle(
        &lb,
        &settings(),
        &json!({"weights": {"blue": 90, "green": 10}}),
    )
    .await
    .unwrap();
    assert_eq!(lb.weights(), Weights::new(90, 10).unwrap());
    assert_eq!(lb.calls(), ["read", "write", "read"]);
    assert_eq!(out["previous"], json!({"blue": 100, "green": 0}));
    assert_eq!(out["weights"], json!({"blue": 90, "green": 10}));
    assert_eq!(out["changed"], true);
}

#[tokio::test]
async fn a_repeated_shift_writes_nothing() {
    let lb = FakeLb::at(90, 10);
    let out = handle(
        &lb,
        &settings(),
        &json!({"weights": {"blue": 90, "green": 10}, "expect": {"blue": 100, "green": 0}}),
    )
    .await
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(lb.calls(), ["read"]);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let lb = FakeLb::at(100, 0);
    for event in [
        json!({"weights": {"blue": 60, "green": 60}}),
        json!({"weights": {"blue": 90.5, "green": 9.5}}),
        json!({"weights": {"blue": 90}}),
        json!({"weights": {"blue": 90, "green": 10}, "expect": {"blue": 1}}),
        json!({}),
        json!("90/10"),
    ] {
        let err = handle(&lb, &settings(), &event).await.unwrap_err();
        assert_eq!(err.error_type, ErrorType::InvalidInput, "{event}");
    }
    assert!(lb.calls().is_empty());
    assert_eq!(lb.weights(), Weights::new(100, 0).unwrap());
}

#[tokio::test]
async fn an_unexpected_listener_state_is_a_conflict_and_is_not_written() {
    let lb = FakeLb::at(50, 50);
    let err = handle(
        &lb,
        &settings(),
        &json!({"weights": {"blue": 90, "green": 10}, "expect": {"blue": 100, "green": 0}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(err.details["found"], json!({"blue": 50, "green": 50}));
    assert_eq!(lb.calls(), ["read"]);
}

#[tokio::test]
async fn a_lost_write_is_reported() {
    let mut lb = FakeLb::at(100, 0);
    lb.overwrite_with = Some(ForwardRoute::for_weights(
        BLUE,
        GREEN,
        Weights::new(70, 30).unwrap(),
    ));
    let err = handle(
        &lb,
        &settings(),
        &json!({"weights": {"blue": 90, "green": 10}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(err.details["found"], json!({"blue": 70, "green": 30}));
}

#[test]
fn a_bad_environment_names_each_variable() {
    let err = Settings::from_env(|k| (k == "LISTENER_ARN").then(|| "not-an-arn".to_string()))
        .unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    let problems = err.details["problems"].to_string();
    for name in [
        "LISTENER_ARN",
        "BLUE_TARGET_GROUP_ARN",
        "GREEN_TARGET_GROUP_ARN",
    ] {
        assert!(problems.contains(name), "{problems}");
    }
}

#[tokio::test]
async fn the_sample_event_parses_and_runs() {
    let sample: Value = serde_json::from_str(include_str!("../../../events/shift-traffic.json"))
        .expect("events/shift-traffic.json is JSON");
    let lb = FakeLb::at(100, 0);
    handle(&lb, &settings(), &sample).await.unwrap();
    assert_eq!(lb.weights(), Weights::new(90, 10).unwrap());
}
