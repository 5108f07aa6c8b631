//! Both state machines, read as Step Functions reads them: every Lambda task retries the Lambda
//! service's own transient errors (AWS's recommended retrier) before any of Cutover's errorTypes.

use serde_json::Value;

const LAMBDA_ERRORS: [&str; 4] = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

/// `(path, state)` for every state, inside Map and Parallel states too.
fn collect<'a>(states: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
    for (name, s) in states.as_object().expect("States is an object") {
        let here = format!("{path}{name}");
        out.push((here.clone(), s));
        for inner in [&s["ItemProcessor"]["States"], &s["Iterator"]["States"]] {
            if inner.is_object() {
                collect(inner, &format!("{here}/"), out);
            }
        }
        for branch in s["Branches"].as_array().into_iter().flatten() {
            collect(&branch["States"], &format!("{here}/"), out);
        }
    }
}

#[test]
fn every_lambda_task_retries_lambdas_transient_errors_first_with_backoff() {
    for file in ["deploy.asl.json", "migrate.asl.json"] {
        let path = format!("{}/../../statemachines/{file}", env!("CARGO_MANIFEST_DIR"));
        let asl: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut all = Vec::new();
        collect(&asl["States"], "", &mut all);
        let tasks: Vec<_> = all
            .into_iter()
            .filter(|(_, s)| s["Type"] == "Task")
            .filter(|(_, s)| {
                s["Resource"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("FunctionArn}"))
            })
            .collect();
        assert!(
            tasks.len() >= 7,
            "{file}: found only {} Lambda tasks",
            tasks.len()
        );
        for (name, task) in tasks {
            let first = &task["Retry"][0];
            let errors: Vec<&str> = first["ErrorEquals"]
                .as_array()
                .map(|e| e.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(errors, LAMBDA_ERRORS, "{file} {name}: first retrier");
            assert!(
                first["BackoffRate"].as_f64().unwrap_or(0.0) >= 2.0
                    && first["MaxAttempts"].as_u64().unwrap_or(0) >= 3,
                "{file} {name}: {first}"
            );
        }
    }
}

#[test]
fn verify_retries_wait_out_the_longest_verification_a_target_may_ask_for() {
    let path = format!(
        "{}/../../statemachines/deploy.asl.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let asl: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut all = Vec::new();
    collect(&asl["States"], "", &mut all);
    let (_, verify) = all
        .into_iter()
        .find(|(name, _)| name.ends_with("/Verify"))
        .expect("a Verify task");
    let pending = verify["Retry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ErrorEquals"][0] == "HealthPending")
        .expect("a HealthPending retrier");
    let waited =
        pending["IntervalSeconds"].as_u64().unwrap() * pending["MaxAttempts"].as_u64().unwrap();
    assert_eq!(
        pending["BackoffRate"].as_f64(),
        Some(1.0),
        "the sum below assumes no backoff"
    );
    assert!(
        waited >= cutover_core::target::MAX_VERIFY_TIMEOUT_SECONDS,
        "Verify retries wait {waited} s, a target may ask for {} s",
        cutover_core::target::MAX_VERIFY_TIMEOUT_SECONDS
    );
}

/// The release machine runs for hours across regions: a step that fails past its retries must end
/// the release item (FinishFailed), never the execution alone, which would leave the item Running.
#[test]
fn every_release_step_retries_timeouts_and_no_failure_skips_the_release_item() {
    let path = format!(
        "{}/../../statemachines/release.asl.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let asl: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut all = Vec::new();
    collect(&asl["States"], "", &mut all);
    let tasks: Vec<_> = all.iter().filter(|(_, s)| s["Type"] == "Task").collect();
    assert!(tasks.len() >= 9, "found {} tasks", tasks.len());
    for (name, task) in &tasks {
        let retried: Vec<&str> = task["Retry"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["ErrorEquals"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        for e in LAMBDA_ERRORS
            .iter()
            .chain(&["Lambda.ClientExecutionTimeoutException", "Lambda.Unknown"])
        {
            assert!(retried.contains(e), "{name} does not retry {e}");
        }
    }
    let top = asl["States"].as_object().unwrap();
    for (name, s) in top {
        if s["Type"] == "Task" || s["Type"] == "Map" {
            let catch = &s["Catch"][0];
            assert_eq!(catch["ErrorEquals"][0], "States.ALL", "{name} catches all");
            let to = catch["Next"].as_str().unwrap();
            assert!(
                ["FinishFailed", "Refused", "Failed"].contains(&to),
                "{name} catches into {to}"
            );
        }
    }
    // Plan's failure is its refusal (nothing recorded to finish); FinishFailed's own ends the run.
    assert_eq!(top["Plan"]["Catch"][0]["Next"], "Refused");
    assert_eq!(top["FinishFailed"]["Catch"][0]["Next"], "Failed");
}
