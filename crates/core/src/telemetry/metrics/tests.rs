use super::*;

#[test]
fn every_metric_of_the_catalogue_makes_a_valid_line() {
    for m in CATALOGUE {
        let emf = Emf::new("live-event", "prod", 1_700_000_000_000)
            .by("Colour", "green")
            .by("Verdict", "Healthy")
            .by("Trigger", "alarm")
            .by("Outcome", "Promoted")
            .by("Phase", "backfill")
            .with(*m, 1.0)
            .property("DeploymentId", "d-1");
        let line = emf.line();
        check_line(&line).unwrap_or_else(|e| panic!("{}: {e}: {line}", m.name));
        let v: Value = serde_json::from_str(&line).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        let sets: Vec<Vec<String>> =
            serde_json::from_value(directive["Dimensions"].clone()).unwrap();
        assert_eq!(sets.len(), m.dimension_sets.len(), "{}", m.name);
        assert!(sets.iter().all(|s| s[..2] == ["App", "Env"]), "{}", m.name);
        assert_eq!(directive["Namespace"], NAMESPACE);
    }
}

#[test]
fn metrics_with_the_same_sets_share_a_directive_and_others_get_their_own() {
    let line = Emf::new("a", "e", 1)
        .by("Trigger", "alarm")
        .with(DEPLOYMENTS_ROLLED_BACK, 1.0)
        .with(TIME_TO_ROLLBACK, 420.0)
        .with(ALARM_TO_RESTORED, 380.0)
        .line();
    check_line(&line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let d = v["_aws"]["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(
        d[0]["Dimensions"],
        json!([["App", "Env"], ["App", "Env", "Trigger"]])
    );
    assert_eq!(d[1]["Metrics"].as_array().unwrap().len(), 2);
    assert_eq!(v["TimeToRollbackMs"], 420.0);
    assert_eq!(v["Trigger"], "alarm");
}

#[test]
fn a_set_naming_a_missing_dimension_is_left_out_and_a_metric_with_none_is_not_published() {
    let line = Emf::new("a", "e", 1)
        .with(DEPLOYMENTS_ROLLED_BACK, 1.0)
        .with(TRAFFIC_WEIGHT, 10.0)
        .line();
    check_line(&line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["App", "Env"]])
    );
    assert_eq!(v["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(), 1);
    assert!(v.get("TrafficWeight").is_none());
}

#[test]
fn the_checker_refuses_what_cloudwatch_logs_would_not_extract() {
    let good = Emf::new("a", "e", 1).with(DEPLOYMENTS_STARTED, 1.0).line();
    let mut v: Value = serde_json::from_str(&good).unwrap();
    let bad = |f: &dyn Fn(&mut Value)| {
        let mut c = v.clone();
        f(&mut c);
        check_line(&c.to_string()).unwrap_err()
    };
    assert!(bad(&|c| c["_aws"]["Timestamp"] = json!("now")).contains("Timestamp"));
    assert!(bad(&|c| c["App"] = json!(7)).contains("dimension App"));
    assert!(bad(&|c| c["DeploymentsStarted"] = json!("1")).contains("DeploymentsStarted"));
    assert!(bad(&|c| c["_aws"]["CloudWatchMetrics"] = json!([])).contains("non-empty"));
    assert!(
        bad(&|c| c["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("")).contains("namespace")
    );
    v["Pad"] = json!("x".repeat(256 * 1024));
    assert!(check_line(&v.to_string()).unwrap_err().contains("256 KB"));
    assert!(check_line("DeploymentsStarted=1").is_err());
}

#[test]
fn catalogue_names_are_unique_and_no_dimension_names_a_release() {
    let mut names: Vec<_> = CATALOGUE.iter().map(|m| m.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CATALOGUE.len());
    for m in CATALOGUE {
        for set in m.dimension_sets {
            for d in *set {
                assert!(
                    ["App", "Env", "Colour", "Verdict", "Trigger", "Outcome", "Phase"].contains(d),
                    "{} is dimensioned by {d}",
                    m.name
                );
            }
        }
    }
}
