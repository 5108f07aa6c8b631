//! The `cutover` binary against the local cloud, as CI runs it: exit codes, one execution per id,
//! and a status that agrees with the load balancer. `make build` builds the binary first
//! (`CUTOVER_BIN` overrides where it is).

use cutover_core::Weights;
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> PathBuf {
    std::env::var("CUTOVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/cutover")
        })
}

/// The binary with `args`, pointed at the local cloud the way CI's environment would point it.
fn command(c: &LocalCloud, args: &[&str]) -> Command {
    let moto = std::env::var("MOTO_URL").unwrap_or_else(|_| "http://127.0.0.1:4567".into());
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("AWS_ENDPOINT_URL", &c.ministack_url)
        .env("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", moto)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    cmd
}

fn cutover(c: &LocalCloud, args: &[&str]) -> Output {
    command(c, args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build -p cutover-cli)", bin().display()))
}

fn deploy(c: &LocalCloud, id: &str, tag: &str, wait: bool) -> Output {
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let image = format!("public.ecr.aws/live-event/service:{tag}");
    let mut args = vec![
        "deploy", "--app", &app, "--env", &env, "--image", &image, "--id", id,
    ];
    args.extend(["--strategy", "Canary10Percent5Minutes"]);
    if wait {
        args.push("--wait");
    }
    cutover(c, &args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn a_good_image_exits_0_and_a_bad_one_exits_2() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    c.live_colour().await;
    let good = unique("cligood");
    let out = deploy(&c, &good, &good, true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("verdict at 10%: Healthy (score 100)"),
        "{}",
        text(&out)
    );

    let bad = unique("clibad-");
    let out = deploy(&c, &bad, &bad, true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let log = text(&out);
    assert!(
        log.contains("verdict at 10%: Unhealthy") && log.contains("RolledBack"),
        "{log}"
    );
}

#[tokio::test]
async fn the_same_id_twice_is_one_execution() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    c.live_colour().await;
    let id = unique("clitwice");
    let first = deploy(&c, &id, &id, false);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let again = deploy(&c, &id, &id, true);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("attached to"), "{}", text(&again));
    let name = format!("{}-{}-{id}", c.seeded("app"), c.seeded("env"));
    let out = c
        .sfn
        .list_executions()
        .state_machine_arn(c.output("DeployStateMachineArn"))
        .send()
        .await
        .expect("ListExecutions");
    let same: Vec<_> = out
        .executions()
        .iter()
        .filter(|e| e.name() == name)
        .collect();
    assert_eq!(same.len(), 1);
}

#[tokio::test]
async fn status_shows_the_weights_the_load_balancer_reports() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    // An active deployment at 10 %, so the answer is not just the idle 100/0.
    let id = unique("clistatus");
    assert_eq!(c.prepare(&id).await.error_type, None);
    assert_eq!(c.shift(&id, 0, 10).await.error_type, None);
    let out = cutover(
        &c,
        &["status", "--app", &app, "--env", &env, "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown: Weights = serde_json::from_value(view["loadBalancerWeights"].clone()).unwrap();
    assert_eq!(shown, c.listener_weights().await);
    assert_eq!(shown, Weights::with_candidate(live.other(), 10));
    assert_eq!(view["deployment"]["id"], id.as_str());

    let out = cutover(
        &c,
        &[
            "rollback",
            "--app",
            &app,
            "--env",
            &env,
            "--reason",
            "cli scenario over",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(c.listener_weights().await, Weights::all_on(live));
}

#[tokio::test]
async fn promote_ends_a_long_bake_and_the_step_is_still_verified() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let refused = cutover(&c, &["promote", "--app", &app, "--env", &env]);
    assert_eq!(
        refused.status.code(),
        Some(4),
        "nothing bakes yet: {}",
        text(&refused)
    );

    // 40 000 s of bake: 20 minutes even at the tests' wait scale, far beyond this test's patience.
    let id = unique("clipromote");
    let image = format!("public.ecr.aws/live-event/service:{id}");
    let steps =
        r#"{"steps": [{"weight": 10, "bakeSeconds": 40000}, {"weight": 100, "bakeSeconds": 0}]}"#;
    let start = cutover(
        &c,
        &[
            "deploy",
            "--app",
            &app,
            "--env",
            &env,
            "--image",
            &image,
            "--id",
            &id,
            "--strategy",
            steps,
        ],
    );
    assert_eq!(start.status.code(), Some(0), "{}", text(&start));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while c.listener_weights().await != Weights::with_candidate(live.other(), 10) {
        assert!(
            std::time::Instant::now() < deadline,
            "the canary never reached 10 %"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let promoted = cutover(&c, &["promote", "--app", &app, "--env", &env]);
    assert_eq!(promoted.status.code(), Some(0), "{}", text(&promoted));

    let mut follow = command(
        &c,
        &[
            "deploy",
            "--app",
            &app,
            "--env",
            &env,
            "--image",
            &image,
            "--id",
            &id,
            "--strategy",
            steps,
            "--wait",
        ],
    )
    .stdout(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let code = loop {
        if let Some(status) = follow.try_wait().unwrap() {
            break status.code();
        }
        if std::time::Instant::now() > deadline {
            follow.kill().ok();
            panic!("still baking 120 s after promote: the skip did not reach the bake loop");
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    let d = c.ledger().await.unwrap().deployment.unwrap();
    // On failure the record says why: the verdict lines and the rollback's trigger and sources.
    assert_eq!(
        code,
        Some(0),
        "the promoted deployment did not succeed: {d:#?}"
    );
    assert_eq!(
        (d.skip_bake, d.verdicts.first().map(|v| v.verdict.as_str())),
        (Some(0), Some("Healthy"))
    );
}

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
