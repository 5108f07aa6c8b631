use super::*;
use serde_json::json;

fn known() -> Vec<String> {
    ["us-east-2", "us-west-2", "eu-west-1"]
        .map(String::from)
        .to_vec()
}

/// The plan with a failover record over us-east-2 / us-west-2.
fn paired(mut v: Value) -> Value {
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    obj.insert("failover".into(), json!([{
        "hostedZoneId": "Z0123456789ABCDEFGHIJ", "recordName": "live.example.com.",
        "primary": {"region": "us-east-2", "setIdentifier": "primary", "healthCheckId": "hc-east"},
        "secondary": {"region": "us-west-2", "setIdentifier": "secondary", "healthCheckId": "hc-west"}
    }]));
    v
}

fn problems(v: Value) -> Vec<String> {
    ReleasePlan::from_json(&paired(v), &known())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_plan_reads_with_its_defaults() {
    let p = ReleasePlan::from_json(
        &paired(json!({"waves": [["us-east-2"], ["us-west-2", "eu-west-1"]]})),
        &known(),
    )
    .unwrap();
    assert_eq!(
        p.failover[0].partner("us-east-2").unwrap().health_check_id,
        "hc-west"
    );
    assert_eq!(
        p.failover[0].min_healthy_share,
        crate::release::DEFAULT_HEALTHY_SHARE
    );
    assert_eq!(p.waves, waves_from_text("us-east-2; us-west-2,eu-west-1"));
    assert_eq!(
        (p.bake_seconds, p.on_failure),
        (DEFAULT_BAKE_SECONDS, OnFailure::Stop)
    );
    assert_eq!(
        p.regions().collect::<Vec<_>>(),
        ["us-east-2", "us-west-2", "eu-west-1"]
    );
    let p = ReleasePlan::from_json(
        &json!({"waves": [["eu-west-1"]], "bakeSeconds": 0, "onFailure": "rollbackAll"}),
        &known(),
    )
    .unwrap();
    assert_eq!((p.bake_seconds, p.on_failure), (0, OnFailure::RollbackAll));
}

#[test]
fn every_problem_is_named_at_once() {
    let found = problems(
        json!({"waves": [["us-east-2", "us-west-2"], [], ["eu-west-1", "ap-south-9", "us-east-2"], ["Oregon"]],
        "bakeSeconds": 90000, "onFailure": "panic", "colour": 1}),
    );
    for expected in [
        "waves[0]: holds both halves of the failover pair us-east-2 / us-west-2",
        "waves[1]: is empty",
        "waves[2][1]: unknown region ap-south-9: the release knows us-east-2, us-west-2, eu-west-1",
        "waves[2][2]: us-east-2 is listed twice (first at waves[0][0])",
        "waves[3][0]: \"Oregon\" is not an AWS region code",
        "bakeSeconds: must be an integer from 0 to 86400",
        "onFailure: must be stop or rollbackAll",
        "colour: is not one of",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected} not in {found:#?}"
        );
    }
    assert_eq!(found.len(), 8, "{found:#?}");
}

#[test]
fn shapes_that_are_not_plans_are_refused() {
    assert!(problems(json!({"waves": []}))[0].starts_with("waves: needs at least one wave"));
    assert!(problems(json!({"waves": "us-east-2"}))[0].starts_with("waves: must be a list"));
    assert!(problems(json!({"waves": [["us-east-2", 5]]}))[0]
        .starts_with("waves[0]: must be a list of region codes"));
    assert!(problems(json!({}))[0].starts_with("waves: is required"));
    assert!(ReleasePlan::from_json(&json!([1]), &known()).is_err());
}

#[test]
fn region_codes_are_awss() {
    for ok in [
        "us-east-1",
        "eu-central-1",
        "ap-southeast-5",
        "us-gov-west-1",
        "il-central-1",
    ] {
        assert!(is_region_code(ok), "{ok}");
    }
    for bad in [
        "",
        "us-east",
        "US-EAST-1",
        "us-east-1a",
        "useast1",
        "us--1",
        "u-east-1",
        "us-east-123",
    ] {
        assert!(!is_region_code(bad), "{bad}");
    }
}

#[test]
fn failover_records_are_checked_field_by_field() {
    let found: Vec<String> = ReleasePlan::from_json(
        &json!({"waves": [["eu-west-1"]], "failover": [
            {"hostedZoneId": "Z1", "recordName": "a b",
             "primary": {"region": "us-east-2", "setIdentifier": "p", "healthCheckId": "h1"},
             "secondary": {"region": "Oregon", "healthCheckId": "h2"}, "minHealthyShare": 2},
            7
        ]}),
        &known(),
    )
    .unwrap_err()
    .iter()
    .map(ToString::to_string)
    .collect();
    for expected in [
        "failover[0].recordName: must be at most 255 characters without spaces",
        "failover[0].secondary.setIdentifier: is required",
        "failover[0].secondary.region: \"Oregon\" is not an AWS region code",
        "failover[0].minHealthyShare: must be a number from 0.01 to 1",
        "failover[1]: must be an object, got 7",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected} not in {found:#?}"
        );
    }
}

#[test]
fn other_waves_are_checked_against_the_same_pairs() {
    let p = ReleasePlan::from_json(&paired(json!({"waves": [["eu-west-1"]]})), &known()).unwrap();
    let e = p
        .with_waves(waves_from_text("us-east-2,us-west-2"), &known())
        .unwrap_err();
    assert!(e[0].to_string().contains("both halves"), "{e:?}");
    assert_eq!(
        p.with_waves(waves_from_text("us-west-2;us-east-2"), &known())
            .unwrap()
            .waves
            .len(),
        2
    );
}

#[test]
fn a_pair_knows_its_other_half() {
    let p = &FailoverPair {
        primary: "us-east-2".into(),
        secondary: "us-west-2".into(),
    };
    assert_eq!(
        (
            p.other("us-east-2"),
            p.other("us-west-2"),
            p.other("eu-west-1")
        ),
        (Some("us-west-2"), Some("us-east-2"), None)
    );
}

proptest::proptest! {
    #[test]
    fn any_json_is_a_plan_or_named_problems_never_a_panic(s in ".{0,200}") {
        let v: Value = serde_json::from_str(&s).unwrap_or(Value::String(s.clone()));
        if let Err(e) = ReleasePlan::from_json(&paired(v), &known()) {
            proptest::prop_assert!(!e.is_empty());
        }
        let _ = waves_from_text(&s);
    }
}
