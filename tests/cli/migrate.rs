//! `cutover migrate` and `cutover approve` against the local cloud: the migrate state machine end to
//! end, the switch it sets, reverts and the approval gate.

use super::*;
use std::path::PathBuf;

/// The spec for `<name>` → `<name>_v2`, written where the CLI can read it.
fn spec_file(name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut spec = cutover_scenarios::pg::spec_for(name, 2000);
    spec["bakeSeconds"] = serde_json::json!(30);
    edit(&mut spec);
    let path = std::env::temp_dir().join(format!("{name}.json"));
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

fn json_events(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

async fn switch_value(c: &LocalCloud, name: &str) -> Option<String> {
    let out = c
        .ssm
        .get_parameter()
        .name(format!("/live-event/test/{name}"))
        .send()
        .await
        .ok()?;
    out.parameter()?.value().map(String::from)
}

#[tokio::test]
async fn migrate_runs_the_state_machine_to_contract_and_sets_the_switch() {
    // Alone: a migration's load on 2 cores must not skew a concurrent deployment's canary judge.
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let db = cutover_scenarios::pg::connect().await;
    let name = unique("tickets_sm_");
    let rows = cutover_scenarios::pg::create_source(&db, &name, 20_000).await;
    let spec = spec_file(&name, |_| {});
    let out = cutover(
        &c,
        &[
            "migrate",
            "--spec",
            spec.to_str().unwrap(),
            "--wait",
            "--output",
            "json",
        ],
    );
    let events = json_events(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{events:#?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds,
        ["started", "expand", "backfill", "verify", "switch", "contract", "result"],
        "{events:#?}"
    );
    assert_eq!(
        events[2]["data"]["batches"], 11,
        "20 000 rows in batches of 2 000, the last one empty"
    );
    assert_eq!(events[3]["data"]["sourceRows"], 20_000);
    assert_eq!(
        switch_value(&c, &name).await.as_deref(),
        Some(format!("{name}_v2").as_str())
    );
    assert!(!cutover_scenarios::pg::table_exists(&db, &format!("public.{name}")).await);
    let (lost, extra, stale, shown) =
        cutover_scenarios::pg::diff(&rows, &cutover_scenarios::pg::read(&db, &name, true).await);
    assert_eq!((lost, extra, stale), (0, 0, 0), "{shown:?}");

    // The same spec again attaches to the finished execution instead of migrating twice.
    let again = cutover(
        &c,
        &[
            "migrate",
            "--spec",
            spec.to_str().unwrap(),
            "--wait",
            "--output",
            "json",
        ],
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(json_events(&again)[0]["event"], "attached");
}

#[tokio::test]
async fn a_flag_switch_is_served_after_the_state_machine_contracts() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let db = cutover_scenarios::pg::connect().await;
    let name = unique("tickets_sf_");
    let app = name.replace('_', "-");
    cutover_scenarios::appconfig::flag_profile(&c, &app).await;
    let before = cutover_scenarios::appconfig::served_flags(&c, &app).await;
    cutover_scenarios::pg::create_source(&db, &name, 5_000).await;
    let spec = spec_file(&name, |v| {
        v["switch"] = serde_json::json!({"flag": {"application": app, "environment": "prod",
            "profile": "tables", "name": "ticketsV2"}});
        // The state machine's bake and approval gate take the defaults the function applied.
        let v = v.as_object_mut().unwrap();
        v.remove("bakeSeconds");
        v.remove("approval");
    });
    let out = cutover(&c, &["migrate", "--spec", spec.to_str().unwrap(), "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let served = cutover_scenarios::appconfig::served_flags(&c, &app).await;
    assert_eq!(
        served["ticketsV2"],
        serde_json::json!({"enabled": true, "table": "tickets_v2"}),
        "{}",
        text(&out)
    );
    assert_eq!(served["darkMode"], before["darkMode"]);
    assert!(!cutover_scenarios::pg::table_exists(&db, &format!("public.{name}")).await);
}

#[tokio::test]
async fn a_failing_phase_reverts_through_the_state_machine_and_exits_2() {
    // Alone: a migration's load on 2 cores must not skew a concurrent deployment's canary judge.
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let db = cutover_scenarios::pg::connect().await;
    let name = unique("tickets_smr_");
    let rows = cutover_scenarios::pg::create_source(&db, &name, 5_000).await;
    // holder_name is no longer a plain copy, so nothing fills the NOT NULL holder for writes that
    // land on the target: switch refuses, after expand and backfill have run.
    let spec = spec_file(&name, |s| {
        s["target"]["columns"][2]["from"] = serde_json::json!("upper(holder)")
    });
    let out = cutover(
        &c,
        &[
            "migrate",
            "--spec",
            spec.to_str().unwrap(),
            "--wait",
            "--output",
            "json",
        ],
    );
    let events = json_events(&out);
    assert_eq!(out.status.code(), Some(2), "{events:#?}");
    let failed = events
        .iter()
        .find(|e| e["event"] == "failed")
        .expect("a failed phase");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("no reverse mapping"),
        "{failed}"
    );
    let at = |kind: &str| events.iter().position(|e| e["event"] == kind);
    assert!(
        at("restore").is_some() && at("restore") < at("revert"),
        "the switch goes back before the target is dropped: {events:#?}"
    );
    assert_eq!(
        events.iter().filter(|e| e["event"] == "revert").count(),
        1,
        "{events:#?}"
    );
    assert_eq!(
        switch_value(&c, &name).await,
        None,
        "the switch was never set"
    );
    assert!(!cutover_scenarios::pg::table_exists(&db, &format!("public.{name}_v2")).await);
    let (lost, extra, stale, _) =
        cutover_scenarios::pg::diff(&rows, &cutover_scenarios::pg::read(&db, &name, false).await);
    assert_eq!((lost, extra, stale), (0, 0, 0));
}

/// A queue subscribed to the approval topic: the approver's copy of each request.
async fn approval_queue(c: &LocalCloud) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&c.conf_on_ministack());
    let sns = aws_sdk_sns::Client::new(&c.conf_on_ministack());
    let url = sqs
        .create_queue()
        .queue_name(unique("approvals-"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let arn =
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe()
        .topic_arn(c.stack["MigrationApprovalTopicArn"].as_str().unwrap())
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    (sqs, url)
}

/// The approval request for `migration`, as its message arrives.
async fn approval_token(sqs: &aws_sdk_sqs::Client, url: &str, migration: &str) -> String {
    for _ in 0..60 {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap_or("{}")).unwrap_or(Value::Null);
            let body = match &body["Message"] {
                Value::String(s) => serde_json::from_str(s).unwrap_or(body.clone()),
                _ => body,
            };
            if body["migration"] == migration {
                return body["taskToken"].as_str().expect("a taskToken").to_string();
            }
        }
    }
    panic!("no approval request for {migration} within 60 s");
}

#[tokio::test]
async fn an_approval_gate_contracts_when_approved_and_reverts_when_rejected() {
    // Alone: a migration's load on 2 cores must not skew a concurrent deployment's canary judge.
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let db = cutover_scenarios::pg::connect().await;
    let (sqs, url) = approval_queue(&c).await;
    for reject in [false, true] {
        let name = unique(if reject {
            "tickets_rej_"
        } else {
            "tickets_apr_"
        });
        cutover_scenarios::pg::create_source(&db, &name, 2_000).await;
        let spec = spec_file(&name, |s| s["approval"] = serde_json::json!(true));
        let child = command(
            &c,
            &[
                "migrate",
                "--spec",
                spec.to_str().unwrap(),
                "--wait",
                "--output",
                "json",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let token = approval_token(&sqs, &url, &name.replace('_', "-")).await;
        // Nothing is contracted while the gate waits.
        assert!(cutover_scenarios::pg::table_exists(&db, &format!("public.{name}")).await);
        let mut args = vec!["approve", "--token", &token];
        if reject {
            args.extend(["--reject", "row counts look off"]);
        }
        assert_eq!(cutover(&c, &args).status.code(), Some(0));
        let out = child.wait_with_output().unwrap();
        let events = json_events(&out);
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
        if reject {
            assert_eq!(out.status.code(), Some(2), "{events:#?}");
            assert!(
                kinds.contains(&"revert") && !kinds.contains(&"contract"),
                "{kinds:?}"
            );
            assert!(!cutover_scenarios::pg::table_exists(&db, &format!("public.{name}_v2")).await);
            assert_eq!(
                switch_value(&c, &name).await,
                None,
                "the switch was restored to absent"
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{events:#?}");
            let at = |k: &str| {
                kinds
                    .iter()
                    .position(|x| *x == k)
                    .unwrap_or_else(|| panic!("{k}: {kinds:?}"))
            };
            assert!(
                at("switch") < at("approval") && at("approval") < at("contract"),
                "{kinds:?}"
            );
            assert!(!cutover_scenarios::pg::table_exists(&db, &format!("public.{name}")).await);
        }
    }
}
