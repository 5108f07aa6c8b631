//! What template.yaml gives the rollback path beyond IAM: nobody but this account's CloudWatch can
//! publish to the alarm topic, the topic is encrypted with a key CloudWatch may use, the function
//! cannot be starved of concurrency, a failed alarm delivery is kept, and the ledger outlives the
//! stack.

use serde_yaml::Value;

fn template() -> Value {
    let text = include_str!("../../../template.yaml");
    serde_yaml::from_str(text).expect("template.yaml parses")
}

fn tagged<'a>(v: &'a Value, tag: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

fn refers_to(v: &Value, name: &str) -> bool {
    tagged(v, "!Ref").and_then(Value::as_str) == Some(name)
        || tagged(v, "!GetAtt")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split('.').next() == Some(name))
}

#[test]
fn only_this_accounts_cloudwatch_publishes_to_the_encrypted_alarm_topic() {
    let t = template();
    let r = &t["Resources"];
    let topic = &r["RollbackTopic"]["Properties"];
    assert!(
        refers_to(&topic["KmsMasterKeyId"], "RollbackTopicKey"),
        "{topic:?}"
    );
    let key = &r["RollbackTopicKey"]["Properties"];
    assert_eq!(key["EnableKeyRotation"], Value::Bool(true));
    let grants_cloudwatch = key["KeyPolicy"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com");
    assert!(grants_cloudwatch, "CloudWatch cannot use the topic's key");

    let policy = r
        .as_mapping()
        .unwrap()
        .values()
        .find(|v| {
            v["Type"] == "AWS::SNS::TopicPolicy"
                && v["Properties"]["Topics"]
                    .as_sequence()
                    .is_some_and(|ts| ts.iter().any(|t| refers_to(t, "RollbackTopic")))
        })
        .expect("a topic policy on RollbackTopic");
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    let allows: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allows.len(), 1, "one Allow: {allows:?}");
    assert_eq!(
        allows[0]["Principal"]["Service"],
        "cloudwatch.amazonaws.com"
    );
    assert!(
        refers_to(
            &allows[0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            "AWS::AccountId"
        ),
        "{:?}",
        allows[0]
    );
    let denies_others = statements.iter().any(|s| {
        s["Effect"] == "Deny"
            && s["Condition"]["StringNotEquals"]["aws:PrincipalServiceName"]
                == "cloudwatch.amazonaws.com"
    });
    assert!(
        denies_others,
        "another principal of the account could publish"
    );
}

#[test]
fn the_rollback_has_reserved_concurrency_and_keeps_failed_deliveries() {
    let t = template();
    let f = &t["Resources"]["RollbackFunction"]["Properties"];
    assert!(
        f["ReservedConcurrentExecutions"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{f:?}"
    );
    let on_failure = &f["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"], "SQS");
    assert!(refers_to(&on_failure["Destination"], "RollbackFailures"));
    assert!(
        refers_to(
            &f["Environment"]["Variables"]["CUTOVER_ACCOUNT_ID"],
            "AWS::AccountId"
        ),
        "the function cannot tell another account's alarm"
    );
}

#[test]
fn the_ledger_survives_the_stack_and_recovers_to_a_point_in_time() {
    let t = template();
    let ledger = &t["Resources"]["LedgerTable"];
    assert_eq!(ledger["DeletionPolicy"], "Retain");
    assert_eq!(ledger["UpdateReplacePolicy"], "Retain");
    assert_eq!(
        ledger["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        Value::Bool(true)
    );
}
