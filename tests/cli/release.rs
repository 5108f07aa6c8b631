//! `cutover release` across the local cloud's two regions (us-east-1 home and PRIMARY, us-west-2
//! SECONDARY): the release machine in the home region starts each region's deploy machine through
//! the release function, waves one after the other. What is asserted is what each region shows: its
//! ledger, its listener, its executions; and the release item in the home region.

use super::text;
use cutover_core::release::{RegionOutcome, ReleaseRecord, ReleaseStatus};
use cutover_core::telemetry::RELEASE_DETAIL_TYPE;
use cutover_core::Ledger;
use cutover_scenarios::events::Subscriber;
use cutover_scenarios::{one_at_a_time, unique, LocalCloud, HOME_REGION, OTHER_REGION};
use serde_json::{json, Value};
use std::process::Output;

struct Regions {
    east: LocalCloud,
    west: LocalCloud,
}

async fn regions() -> Regions {
    let east = LocalCloud::for_deployments().await;
    let west = LocalCloud::connect_in(OTHER_REGION).await;
    east.live_colour().await;
    west.live_colour().await;
    // The verification at 100 % judges the candidate against the live colour's traffic before the
    // shift: in a cloud just brought up that baseline has too few seconds (a release that ran first
    // in the binary was judged NoData against 2 baseline samples and rolled back).
    super::experiment::with_history(&east).await;
    super::experiment::with_history(&west).await;
    Regions { east, west }
}

fn release(c: &LocalCloud, id: &str, image: &str, extra: &[&str]) -> Output {
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let mut args = vec![
        "release",
        "--app",
        &app,
        "--env",
        &env,
        "--image",
        image,
        "--id",
        id,
        "--strategy",
        "AllAtOnce",
        "--wait",
    ];
    args.extend(extra);
    c.cutover(&args)
}

async fn release_item(c: &LocalCloud) -> ReleaseRecord {
    let pk = format!("{}#{}", c.seeded("app"), c.seeded("env"));
    let item = c
        .dynamodb
        .get_item()
        .table_name(c.output("LedgerTableName"))
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("RELEASE".into()),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the release item");
    let mut item = item;
    item.remove("pk");
    item.remove("sk");
    serde_dynamo::from_item(item).expect("release item")
}

fn live_image(l: &Ledger) -> String {
    l.last_known_good
        .as_ref()
        .map(|r| r.image.clone())
        .unwrap_or_default()
}

/// The region's ledger holds deployment `id` with this status.
async fn ledger_says(c: &LocalCloud, id: &str) -> Option<cutover_core::Status> {
    c.ledger()
        .await
        .and_then(|l| l.deployment)
        .filter(|d| d.id == id)
        .map(|d| d.status)
}

/// All traffic on the live colour the ledger names, in that region's load balancer.
async fn all_on_live(c: &LocalCloud) {
    let live = c
        .ledger()
        .await
        .map(|l| l.live_colour)
        .unwrap_or(cutover_core::Colour::Blue);
    let w = c.listener_weights().await;
    assert_eq!(w.of(live), 100, "{w:?} with {live:?} live");
}

#[tokio::test]
async fn a_good_release_promotes_wave_one_then_after_the_bake_wave_two() {
    let _one = one_at_a_time().lock().await;
    let r = regions().await;
    let id = unique("rel");
    let image = format!("public.ecr.aws/live-event/service:{id}");
    let heard = Subscriber::subscribe(&r.east, RELEASE_DETAIL_TYPE).await;
    let out = release(&r.east, &id, &image, &[]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let east_done = log.find("us-east-1: deploy").expect("east's lines");
    let west_start = log.find("us-west-2: wave 2").expect("west's lines");
    assert!(east_done < west_start, "wave 2 after wave 1:\n{log}");
    assert!(
        log.contains("wave 2 of 2: us-west-2 (after a bake of 60 s)"),
        "{log}"
    );

    let item = release_item(&r.east).await;
    assert_eq!(
        (item.id.as_str(), item.status),
        (id.as_str(), ReleaseStatus::Succeeded)
    );
    for (c, region) in [(&r.east, HOME_REGION), (&r.west, OTHER_REGION)] {
        let run = &item.region(region).expect("region in the item").deploy;
        assert_eq!(run.outcome, Some(RegionOutcome::Promoted), "{region}");
        assert_eq!(
            ledger_says(c, &id).await,
            Some(cutover_core::Status::Promoted),
            "{region}"
        );
        assert_eq!(live_image(&c.ledger().await.unwrap()), image, "{region}");
        all_on_live(c).await;
    }
    let east_end = item
        .region(HOME_REGION)
        .unwrap()
        .deploy
        .ended_at_ms
        .unwrap();
    let west_start = item.region(OTHER_REGION).unwrap().deploy.started_at_ms;
    assert!(west_start >= east_end, "wave 2 began after wave 1 ended");

    // The home region's status and history tell of the release across both regions.
    let (app, env) = (r.east.seeded("app"), r.east.seeded("env"));
    let summary = format!(
        "release {id} of {image} Succeeded (wave 2/2): {HOME_REGION} Promoted, {OTHER_REGION} Promoted"
    );
    let status = text(&r.east.cutover(&["status", "--app", &app, "--env", &env]));
    assert!(status.contains(&summary), "{status}");
    assert_eq!(archived(&r.east, &id)["status"], "Succeeded");

    let end = ended(&heard, &r.east, &id).await;
    assert_eq!(
        (
            end["to"].clone(),
            end["wave"].clone(),
            end["notStarted"].clone()
        ),
        (json!("Succeeded"), json!(2), json!([])),
        "{end}"
    );
    let outcomes: Vec<(Value, Value)> = end["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["region"].clone(), g["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (json!(HOME_REGION), json!("Promoted")),
            (json!(OTHER_REGION), json!("Promoted"))
        ]
    );
}

#[tokio::test]
async fn a_bad_release_rolls_wave_one_back_and_never_starts_wave_two() {
    let _one = one_at_a_time().lock().await;
    let r = regions().await;
    let west_before = r.west.ledger().await.map(|l| live_image(&l));
    let id = unique("relbad-");
    let image = format!("public.ecr.aws/live-event/service:{id}");
    let out = release(&r.east, &id, &image, &["--output", "json"]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(2), "{log}");
    // Every line a program reads: the region's own deploy lines scoped to it, its end, the result.
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let east_end = lines
        .iter()
        .find(|l| l["event"] == "region" && l["data"]["run"]["outcome"] == "RolledBack")
        .unwrap_or_else(|| panic!("east's end: {log}"));
    assert_eq!(east_end["data"]["region"], HOME_REGION);
    assert!(
        lines.iter().any(|l| l["scope"] == HOME_REGION),
        "east's deploy lines: {log}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["scope"] != OTHER_REGION && l["data"]["region"] != OTHER_REGION),
        "nothing of wave 2: {log}"
    );
    let result = lines.last().unwrap();
    assert_eq!(result["event"], "result", "{log}");
    let item = release_item(&r.east).await;
    assert_eq!(item.status, ReleaseStatus::Stopped);
    assert!(
        item.region(OTHER_REGION).is_none(),
        "wave 2 never started: {item:?}"
    );
    assert_eq!(
        ledger_says(&r.east, &id).await,
        Some(cutover_core::Status::RolledBack)
    );
    assert_eq!(ledger_says(&r.west, &id).await, None);
    assert_eq!(r.west.ledger().await.map(|l| live_image(&l)), west_before);
    all_on_live(&r.east).await;
}

#[tokio::test]
async fn rollback_all_returns_the_promoted_wave_when_wave_two_fails() {
    let _one = one_at_a_time().lock().await;
    let r = regions().await;
    // What east runs before: a release of this test's own, so its ledger names the image.
    let first = unique("relprev");
    let east_before = format!("public.ecr.aws/live-event/service:{first}");
    let out = release(&r.east, &first, &east_before, &["--waves", HOME_REGION]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Wave 2 fails its verification: the simulator serves this image's 5XX in us-west-2 only.
    let west_before = r.west.ledger().await.map(|l| live_image(&l));
    let id = unique("relall");
    let image = format!("public.ecr.aws/live-event/service:{id}-badin-{OTHER_REGION}");
    let heard = Subscriber::subscribe(&r.east, RELEASE_DETAIL_TYPE).await;
    // The stored plan says stop; the command line's onFailure overrides it for this release.
    let out = release(&r.east, &id, &image, &["--on-failure", "rollbackAll"]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(2), "{log}");
    assert!(
        log.contains(&format!("us-east-1: revert to {east_before}")),
        "{log}"
    );
    let item = release_item(&r.east).await;
    assert_eq!(item.status, ReleaseStatus::RolledBack, "{item:?}");
    assert_eq!(
        item.region(OTHER_REGION).unwrap().deploy.outcome,
        Some(RegionOutcome::RolledBack)
    );
    assert_eq!(
        ledger_says(&r.west, &id).await,
        Some(cutover_core::Status::RolledBack)
    );
    assert_eq!(r.west.ledger().await.map(|l| live_image(&l)), west_before);
    all_on_live(&r.west).await;
    let revert = item
        .region(HOME_REGION)
        .unwrap()
        .revert
        .clone()
        .expect("east's revert");
    assert_eq!(
        (revert.image.as_str(), revert.outcome),
        (east_before.as_str(), Some(RegionOutcome::Promoted))
    );
    let east = r.east.ledger().await.unwrap();
    assert_eq!(
        live_image(&east),
        east_before,
        "east runs its previous image again"
    );
    assert_eq!(
        east.deployment.as_ref().map(|d| d.id.clone()),
        Some(format!("{id}-revert"))
    );
    all_on_live(&r.east).await;

    let end = ended(&heard, &r.east, &id).await;
    assert_eq!(end["to"], "RolledBack", "{end}");
    assert_eq!(
        (
            end["regions"][0]["revert"].clone(),
            end["regions"][1]["outcome"].clone()
        ),
        (json!("Promoted"), json!("RolledBack")),
        "{end}"
    );
}

/// The home bus's `Cutover Release State Change` events of release `id`, which must be its claim
/// and then its end, once each; returns the end's detail.
async fn ended(heard: &Subscriber, c: &LocalCloud, id: &str) -> Value {
    let mine = |got: &[Value]| -> Vec<Value> {
        got.iter()
            .filter(|e| e["detail"]["releaseId"] == id)
            .map(|e| e["detail"].clone())
            .collect()
    };
    let got = heard
        .received(c, |got| mine(got).iter().any(|d| d["to"] != "Running"))
        .await;
    let told = mine(&got);
    let chain: Vec<(Value, Value)> = told
        .iter()
        .map(|d| (d["from"].clone(), d["to"].clone()))
        .collect();
    assert_eq!(chain.len(), 2, "{told:#?}");
    assert_eq!(chain[0], (Value::Null, json!("Running")), "{told:#?}");
    assert_eq!(chain[1].0, json!("Running"), "{told:#?}");
    told[1].clone()
}

/// Release `id` as `cutover history --output json` shows it, once.
fn archived(c: &LocalCloud, id: &str) -> Value {
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let history = c.cutover(&[
        "history", "--app", &app, "--env", &env, "--limit", "5", "--output", "json",
    ]);
    let mine: Vec<Value> = text(&history)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["release"]["id"] == id)
        .map(|v| v["release"].clone())
        .collect();
    assert_eq!(mine.len(), 1, "{}", text(&history));
    mine[0].clone()
}

async fn put_plan(c: &LocalCloud, name: &str, plan: &Value) {
    c.ssm
        .put_parameter()
        .name(name)
        .value(plan.to_string())
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter");
}

#[tokio::test]
async fn an_unhealthy_secondary_refuses_the_primary_before_any_traffic_moves() {
    let _one = one_at_a_time().lock().await;
    let r = regions().await;
    let before = r.east.listener_weights().await;
    let outage = cutover_scenarios::outage(OTHER_REGION);
    let id = unique("relgate");
    let out = release(&r.east, &id, "public.ecr.aws/live-event/service:gate", &[]);
    drop(outage);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(4), "{log}");
    assert!(
        log.contains("us-east-1 is not deployed: its failover partner us-west-2 is unhealthy (0 % of 8 Route 53 checkers report success, 50 % needed)"),
        "{log}"
    );
    assert_eq!(ledger_says(&r.east, &id).await, None, "no deployment began");
    assert_eq!(r.east.listener_weights().await, before);
    let item = release_item(&r.east).await;
    assert_eq!(item.status, ReleaseStatus::Stopped);
    assert!(item.region(OTHER_REGION).is_none());
}

#[tokio::test]
async fn failover_status_shows_the_favoured_region_and_follows_an_outage() {
    // The other scenarios set outages too.
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::connect().await;
    let (app, env) = (c.seeded("app"), c.seeded("env"));
    let status = |c: &LocalCloud| {
        let out = c.cutover(&["failover", "status", "--app", &app, "--env", &env]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        text(&out)
    };
    let log = status(&c);
    assert!(log.contains("live.live-event.example.com. (zone"), "{log}");
    assert!(log.contains("favours us-east-1"), "{log}");
    assert!(
        log.contains("PRIMARY   us-east-1") && log.contains("100 % of 8 checkers healthy"),
        "{log}"
    );
    let outage = cutover_scenarios::outage(HOME_REGION);
    let log = status(&c);
    drop(outage);
    assert!(log.contains("favours us-west-2"), "{log}");
    assert!(log.contains("0 % of 8 checkers healthy"), "{log}");
}

#[tokio::test]
async fn a_deploy_of_one_half_is_refused_while_the_other_half_is_unhealthy() {
    // Outages are shared with the other scenarios of this file.
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::connect().await;
    // Its own env, so no warm function's cached target configuration of the seeded one changes:
    // the seeded target with the release plan's failover record, us-east-1 its primary.
    let app = c.seeded("app");
    let env = unique("failover-gate");
    let seeded = c
        .ssm
        .get_parameter()
        .name(c.seeded("targetParameter"))
        .send()
        .await
        .expect("GetParameter")
        .parameter
        .and_then(|p| p.value)
        .unwrap();
    let mut target: Value = serde_json::from_str(&seeded).unwrap();
    target["failover"] = c.seed["releasePlan"]["failover"][0].clone();
    let name = format!("/cutover/{app}/{env}/target");
    put_plan(&c, &name, &target).await;
    let before = c.listener_weights().await;
    let outage = cutover_scenarios::outage(OTHER_REGION);
    let id = unique("gate");
    let out = c.cutover(&[
        "deploy",
        "--app",
        &app,
        "--env",
        &env,
        "--image",
        "public.ecr.aws/live-event/service:gate",
        "--id",
        &id,
        "--wait",
    ]);
    drop(outage);
    c.ssm
        .delete_parameter()
        .name(&name)
        .send()
        .await
        .expect("DeleteParameter");
    let log = text(&out);
    assert_eq!(out.status.code(), Some(4), "{log}");
    assert!(
        log.contains("us-east-1 is not deployed: its failover partner us-west-2 is unhealthy (0 % of 8 Route 53 checkers report success, 50 % needed)"),
        "{log}"
    );
    assert_eq!(c.listener_weights().await, before, "no traffic moved");
    let ledger = c
        .dynamodb
        .get_item()
        .table_name(c.output("LedgerTableName"))
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("{app}#{env}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("LEDGER".into()),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    assert!(ledger.item.is_none(), "nothing claimed: {:?}", ledger.item);
}

#[tokio::test]
async fn a_release_whose_execution_was_stopped_gives_way_to_the_next_one() {
    let _one = one_at_a_time().lock().await;
    let r = regions().await;
    let first = unique("relstop");
    let image = format!("public.ecr.aws/live-event/service:{first}");
    let app = r.east.seeded("app");
    let env = r.east.seeded("env");
    let started = r.east.cutover(&[
        "release",
        "--app",
        &app,
        "--env",
        &env,
        "--image",
        &image,
        "--id",
        &first,
        "--strategy",
        "AllAtOnce",
        "--waves",
        HOME_REGION,
    ]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    // Once its Plan step has recorded it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let arn = loop {
        let item = release_item(&r.east).await;
        if item.id == first {
            break item.execution_arn.expect("the release's execution");
        }
        assert!(std::time::Instant::now() < deadline, "{first} recorded");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    r.east
        .sfn
        .stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .expect("StopExecution");
    // Its region's deployment goes on by itself; the next release waits for that, not for the
    // release item the stopped execution left Running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while ledger_says(&r.east, &first)
        .await
        .is_none_or(|s| !s.is_final())
    {
        assert!(std::time::Instant::now() < deadline, "east's deploy ended");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(release_item(&r.east).await.status, ReleaseStatus::Running);

    let next = unique("relnext");
    let out = release(
        &r.east,
        &next,
        &format!("public.ecr.aws/live-event/service:{next}"),
        &["--waves", HOME_REGION],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let old = archived(&r.east, &first);
    assert_eq!(old["status"], "Failed");
    assert_eq!(
        old["reason"],
        "its release execution ended ABORTED before the release finished"
    );
}
