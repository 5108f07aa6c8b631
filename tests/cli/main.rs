//! The `cutover` binary against the local cloud, as CI runs it: exit codes, one execution per id,
//! and a status that agrees with the load balancer.

use cutover_core::Weights;
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::Value;
use std::process::{Command, Output};

mod drill;
mod experiment;
mod migrate;
mod release;

fn command(c: &LocalCloud, args: &[&str]) -> Command {
    c.cli(args)
}

fn cutover(c: &LocalCloud, args: &[&str]) -> Output {
    c.cutover(args)
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
    // The same id for another image must not report that execution's outcome as its own.
    let other = deploy(&c, &id, &format!("{id}-other"), true);
    assert_eq!(other.status.code(), Some(4), "{}", text(&other));
    assert!(text(&other).contains("image"), "{}", text(&other));
    let again = deploy(&c, &id, &id, true);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("attached to"), "{}", text(&again));
    let name = cutover_core::execution_name::deployment(&c.seeded("app"), &c.seeded("env"), &id);
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
