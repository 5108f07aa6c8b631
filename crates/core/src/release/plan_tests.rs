use super::*;
use serde_json::json;

fn known() -> Vec<String> {
    ["us-east-2", "us-west-2", "eu-west-1"]
        .map(String::from)
        .to_vec()
}

fn pair() -> Vec<FailoverPair> {
    vec![FailoverPair {
        primary: "us-east-2".into(),
        secondary: "us-west-2".into(),
    }]
}

fn problems(v: Value) -> Vec<String> {
    ReleasePlan::from_json(&v, &known(), &pair())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_plan_reads_with_its_defaults() {
    let p = ReleasePlan::from_json(
        &json!({"waves": [["us-east-2"], ["us-west-2", "eu-west-1"]]}),
        &known(),
        &pair(),
    )
    .unwrap();
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
        &pair(),
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
    assert!(ReleasePlan::from_json(&json!([1]), &known(), &pair()).is_err());
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
fn a_pair_knows_its_other_half() {
    let p = &pair()[0];
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
        if let Err(e) = ReleasePlan::from_json(&v, &known(), &pair()) {
            proptest::prop_assert!(!e.is_empty());
        }
        let _ = waves_from_text(&s);
    }
}
