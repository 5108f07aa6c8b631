//! Every parser of outside input, fed arbitrary JSON and realistic documents with one part broken:
//! each answers a value or named problems, never a panic or a stack overflow. Bounded (256 cases a
//! parser, proptest's default) so it runs in `make test`; `PROPTEST_CASES` runs more.

use cutover_core::fuzz::{json, mutated};
use cutover_core::migration::expr::Expr;
use cutover_core::migration::MigrationSpec;
use cutover_core::release::ReleasePlan;
use cutover_core::{AnyTarget, Strategy};
use proptest::prelude::*;
use serde_json::{json, Value};

fn sample(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("sample is JSON")
}

fn target() -> Value {
    json!({
        "cluster": "live-event", "services": {"blue": "b", "green": "g"}, "containerName": "app",
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/2",
        "testListenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/3",
        "testHeader": {"name": "X-Cutover-Candidate", "value": "1", "priority": 10},
        "targetGroups": {
            "blue": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1",
            "green": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2"
        },
        "loadBalancer": "app/live/1", "alarms": ["live-5xx"],
        "healthPolicy": {"max5xxRate": 0.02, "maxP95Ms": 500, "minRequestCount": 50,
            "periodSeconds": 60, "judge": {"minSamples": 6}},
        "defaultStrategy": "Canary10Percent5Minutes", "terminationWaitSeconds": 60,
        "hooks": {"beforeAllowTraffic": {"function": "smoke", "timeoutSeconds": 60}}
    })
}

fn plan() -> Value {
    json!({"waves": [["us-east-1"], ["us-west-2"]], "bakeSeconds": 600, "onFailure": "rollbackAll",
        "failover": [{"hostedZoneId": "Z1", "recordName": "live.example.com.",
            "primary": {"region": "us-east-1", "setIdentifier": "p", "healthCheckId": "h1"},
            "secondary": {"region": "us-west-2", "setIdentifier": "s", "healthCheckId": "h2"}}]})
}

proptest! {
    #[test]
    fn target_configurations(v in prop_oneof![json(), mutated(target())]) {
        let _ = AnyTarget::from_json(&v);
    }

    #[test]
    fn migration_specs(v in prop_oneof![json(), mutated(sample("events/migrate-expand.json")["spec"].clone())]) {
        if let Err(problems) = MigrationSpec::from_json(&v) {
            prop_assert!(!problems.is_empty());
        }
    }

    #[test]
    fn migration_expressions(s in prop_oneof![
        ".{0,80}",
        "[a-z_(),'+*/ 0-9|-]{0,80}",
        "(lower|upper|coalesce|trim)\\(([a-z_]{1,8}|'[^']{0,5}')(, *[a-z_]{1,8}){0,2}\\)",
    ]) {
        let _ = Expr::parse(&s);
    }

    #[test]
    fn strategies(v in prop_oneof![
        json(),
        mutated(json!({"steps": [{"weight": 10, "bakeSeconds": 300}, {"weight": 100, "bakeSeconds": 0}]})),
        mutated(json!("Linear10PercentEvery1Minute")),
    ]) {
        let _ = Strategy::from_json(&v);
    }

    #[test]
    fn release_plans(v in prop_oneof![json(), mutated(plan())]) {
        let _ = ReleasePlan::from_json(&v, &[]);
    }
}

/// Nesting that would overflow a recursive parser's stack is refused as a problem.
#[test]
fn deep_nesting_is_a_problem_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(Expr::parse(&deep).is_err());
    let call = format!("{}x{}", "lower(".repeat(50_000), ")".repeat(50_000));
    assert!(Expr::parse(&call).is_err());
    // Deep JSON (serde_json's own parser stops at 128 levels; a Value built in memory does not).
    let mut v = json!(1);
    for _ in 0..1_000 {
        v = json!([v]);
    }
    assert!(Strategy::from_json(&json!({ "steps": v.clone() })).is_err());
    assert!(AnyTarget::from_json(&json!({ "alarms": v.clone() })).is_err());
    assert!(MigrationSpec::from_json(&json!({ "target": {"columns": v} })).is_err());
}
