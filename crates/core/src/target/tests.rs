use super::*;
use serde_json::json;

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/50dc6c495c0c9188/f2f7dc8efc522ab2";
const BLUE_TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/live-blue/73e2d6bc24d8a067";
const GREEN_TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/live-green/83e2d6bc24d8a068";

fn valid() -> Value {
    json!({
        "cluster": "live-event",
        "services": {"blue": "live-event-service-blue", "green": "live-event-service-green"},
        "containerName": "app",
        "listenerArn": LISTENER,
        "targetGroups": {"blue": BLUE_TG, "green": GREEN_TG},
        "loadBalancer": "app/live/50dc6c495c0c9188",
        "alarms": ["live-event-5xx"],
        "healthPolicy": {"max5xxRate": 0.02, "maxP95Ms": 400, "minRequestCount": 100},
        "defaultStrategy": "Linear10PercentEvery1Minute",
        "terminationWaitSeconds": 60
    })
}

fn fields(v: Value) -> Vec<String> {
    TargetConfig::from_json(&v)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_valid_config_loads_with_defaults_filled_in() {
    let c = TargetConfig::from_json(&valid()).unwrap();
    assert_eq!(c.services.get(Colour::Green), "live-event-service-green");
    assert_eq!(c.target_groups.blue, BLUE_TG);
    assert_eq!(c.health_policy.max_p95_ms, 400.0);
    assert_eq!(c.health_policy.judge, JudgeSettings::default());
    assert_eq!(c.default_strategy.plan().len(), 10);
    assert_eq!(c.listener_rule_arn, None);
}

#[test]
fn every_bad_field_is_named_at_once() {
    let mut v = valid();
    v["cluster"] = json!("");
    v["services"]["green"] = json!("live-event-service-blue");
    v["listenerArn"] = json!("arn:aws:ecs:us-east-1:1:listener/x");
    v["targetGroups"] = json!({"blue": BLUE_TG});
    v["loadBalancer"] = json!("live");
    v["healthPolicy"]["max5xxRate"] = json!(5);
    v["healthPolicy"]["judge"] = json!({"confidence": "high"});
    v["defaultStrategy"] = json!("Canary99");
    v["terminationWaitSeconds"] = json!(-1);
    v["alarms"] = json!(["ok", 3]);
    assert_eq!(
        fields(v),
        vec![
            "cluster",
            "services.green",
            "listenerArn",
            "targetGroups.green",
            "loadBalancer",
            "alarms",
            "healthPolicy.max5xxRate",
            "healthPolicy.judge.confidence",
            "defaultStrategy",
            "terminationWaitSeconds",
        ]
    );
}

#[test]
fn missing_required_fields_are_named() {
    assert_eq!(
        fields(json!({})),
        vec![
            "cluster",
            "services",
            "containerName",
            "listenerArn",
            "targetGroups",
            "loadBalancer"
        ]
    );
    assert_eq!(fields(json!("nope")), vec!["$"]);
}

#[test]
fn a_verification_longer_than_the_state_machine_waits_is_refused() {
    let mut v = valid();
    v["healthPolicy"] = json!({ "verifyTimeoutSeconds": MAX_VERIFY_TIMEOUT_SECONDS });
    assert!(TargetConfig::from_json(&v).is_ok());
    v["healthPolicy"] = json!({ "verifyTimeoutSeconds": MAX_VERIFY_TIMEOUT_SECONDS + 1 });
    assert_eq!(fields(v), vec!["healthPolicy.verifyTimeoutSeconds"]);
}

#[test]
fn alb_metric_periods_under_60_seconds_are_refused_on_aws_only() {
    let mut v = valid();
    v["healthPolicy"]["periodSeconds"] = json!(1);
    let errors = TargetConfig::from_json(&v).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "healthPolicy.periodSeconds");
    assert!(
        errors[0].problem.contains("60-second resolution"),
        "{}",
        errors[0].problem
    );
    let local = MetricRules {
        min_period_seconds: 1,
    };
    let c = TargetConfig::from_json_with(&v, local).unwrap();
    assert_eq!(c.health_policy.period_seconds, 1);
    // A shape CloudWatch has no period for stays refused whatever the floor.
    v["healthPolicy"]["periodSeconds"] = json!(7);
    assert!(TargetConfig::from_json_with(&v, local).is_err());
}

#[test]
fn the_metric_delay_defaults_to_two_alb_intervals_and_is_bounded() {
    let c = TargetConfig::from_json(&valid()).unwrap();
    assert_eq!(c.health_policy.metric_delay_seconds, 120);
    let mut v = valid();
    v["healthPolicy"]["metricDelaySeconds"] = json!(601);
    assert_eq!(fields(v), vec!["healthPolicy.metricDelaySeconds"]);
}

#[test]
fn a_verification_too_short_for_the_judges_data_is_refused() {
    // 5-minute periods: six of them and the delay are 1 920 s, past any allowed timeout.
    let mut v = valid();
    v["healthPolicy"]["periodSeconds"] = json!(300);
    let errors = TargetConfig::from_json(&v).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "healthPolicy.verifyTimeoutSeconds");
    assert!(
        errors[0].problem.contains("at least 1920"),
        "{}",
        errors[0].problem
    );
    v["healthPolicy"]["periodSeconds"] = json!(60);
    v["healthPolicy"]["verifyTimeoutSeconds"] = json!(479);
    assert_eq!(fields(v.clone()), vec!["healthPolicy.verifyTimeoutSeconds"]);
    v["healthPolicy"]["verifyTimeoutSeconds"] = json!(480);
    assert!(TargetConfig::from_json(&v).is_ok());
}

#[test]
fn arn_shapes_are_checked() {
    assert!(is_elb_arn(LISTENER, "listener"));
    assert!(!is_elb_arn(LISTENER, "targetgroup"));
    assert!(!is_elb_arn(
        "arn:aws:elasticloadbalancing:us-east-1:1:listener/",
        "listener"
    ));
    assert!(!is_elb_arn("listener/app/x", "listener"));
    let mut v = valid();
    v["listenerRuleArn"] = json!(LISTENER);
    assert_eq!(fields(v), vec!["listenerRuleArn"]);
}

#[test]
fn hooks_load_with_their_defaults_and_every_bad_one_is_named() {
    let mut v = valid();
    v["hooks"] = json!({
        "beforeAllowTraffic": {"function": "cutover-hook-smoke"},
        "afterAllowTraffic": {"function": "arn:aws:lambda:us-east-1:123456789012:function:cutover-hook-load:live", "timeoutSeconds": 3600},
        "testEndpoint": "http://alb.example.com:8081"
    });
    let t = TargetConfig::from_json(&v).unwrap();
    let before = t.hooks.before_allow_traffic.unwrap();
    assert_eq!(
        (before.function.as_str(), before.timeout_seconds),
        ("cutover-hook-smoke", 600)
    );
    assert_eq!(t.hooks.after_allow_traffic.unwrap().timeout_seconds, 3600);

    v["hooks"] = json!({
        "beforeAllowTraffic": {"function": "prod-db-admin"},
        "afterAllowTraffic": {"function": "cutover-hook-x", "timeoutSeconds": 3601},
        "afterRollback": {"function": "cutover-hook-y"},
        "beforeDeploy": {"function": "cutover-hook-z"},
        "testEndpoint": "ftp://x"
    });
    assert_eq!(
        fields(v),
        vec![
            "hooks.beforeDeploy",
            "hooks.beforeAllowTraffic.function",
            "hooks.afterAllowTraffic.timeoutSeconds",
            "hooks.testEndpoint"
        ]
    );
}

fn with_failover(record: Value) -> Value {
    let mut v = valid();
    v["failover"] = record;
    v
}

fn record() -> Value {
    json!({"hostedZoneId": "Z0123456789", "recordName": "live.example.com.",
        "primary": {"region": "us-east-1", "setIdentifier": "use1", "healthCheckId": "hc-east"},
        "secondary": {"region": "us-west-2", "setIdentifier": "usw2", "healthCheckId": "hc-west"}})
}

#[test]
fn a_failover_record_loads_and_knows_each_regions_partner() {
    assert_eq!(TargetConfig::from_json(&valid()).unwrap().failover, None);
    let c = TargetConfig::from_json(&with_failover(record())).unwrap();
    let f = c.failover.unwrap();
    assert_eq!(f.partner("us-east-1").unwrap().health_check_id, "hc-west");
    assert_eq!(f.partner("us-west-2").unwrap().region, "us-east-1");
    assert_eq!(f.min_healthy_share, crate::release::DEFAULT_HEALTHY_SHARE);
}

#[test]
fn a_bad_failover_record_is_named_field_by_field() {
    let mut bad = record();
    bad["primary"]["region"] = json!("east");
    bad["secondary"]
        .as_object_mut()
        .unwrap()
        .remove("healthCheckId");
    bad["minHealthyShare"] = json!(2);
    let mut got = fields(with_failover(bad));
    got.sort();
    assert_eq!(
        got,
        [
            "failover.minHealthyShare",
            "failover.primary.region",
            "failover.secondary.healthCheckId"
        ]
    );
    assert_eq!(fields(with_failover(json!("us-west-2"))), ["failover"]);
}
