//! The release steps over fake regions: what each step wrote to the release item, which regional
//! executions it started with which input, and what it refused before starting anything.

use cutover_aws::release::fakes::FakeReleaseCloud;
use cutover_core::ledger::Release as LiveRelease;
use cutover_core::release::{ReleaseRecord, ReleaseStatus};
use cutover_core::{Colour, ErrorType, Ledger, Status};
use serde_json::{json, Value};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

fn ev(action: &str, extra: Value) -> Value {
    let mut v = json!({"action": action, "app": "shop", "env": "prod", "releaseId": "r1"});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v
}

async fn step(cloud: &FakeReleaseCloud, action: &str, extra: Value) -> Value {
    release::handle(cloud, &ev(action, extra), 1_000)
        .await
        .unwrap_or_else(|f| panic!("{action}: {f:?}"))
}

async fn plan(cloud: &FakeReleaseCloud, waves: &str) -> Result<Value, cutover_core::Failure> {
    let input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2",
        "waves": waves, "strategy": null});
    release::handle(
        cloud,
        &json!({"action": "plan", "release": input, "executionArn": "arn:release:1"}),
        1_000,
    )
    .await
}

/// A region whose ledger shows the live image img:1 and no deployment in flight.
fn live(cloud: &FakeReleaseCloud, region: &str) {
    let release = LiveRelease {
        task_definition_arn: "arn:td:1".into(),
        image: "img:1".into(),
    };
    cloud.set_ledger(
        region,
        Ledger::new("shop", "prod", Colour::Blue, Some(release)),
    );
}

/// What the regional deploy did with deployment `id`: its ledger and its execution.
fn ended(
    cloud: &FakeReleaseCloud,
    region: &str,
    id: &str,
    status: Status,
    sfn: &str,
    error: Option<&str>,
) {
    let mut ledger = cloud.ledger_of(region).unwrap();
    ledger.acquire(id, "img", None, 1).unwrap();
    ledger.deployment.as_mut().unwrap().status = status;
    cloud.set_ledger(region, ledger);
    let arn = cloud
        .executions()
        .into_iter()
        .find(|(_, e)| e.region == region && e.input.contains(&format!("\"{id}\"")))
        .map(|(arn, _)| arn)
        .unwrap();
    cloud.set_execution(&arn, sfn, error);
}

async fn run_region(cloud: &FakeReleaseCloud, region: &str, revert: bool) -> Value {
    step(cloud, "start", json!({"region": region, "revert": revert})).await
}

async fn poll(cloud: &FakeReleaseCloud, started: &Value) -> Value {
    step(
        cloud,
        "poll",
        json!({"region": started["region"], "revert": started["revert"], "executionArn": started["executionArn"]}),
    )
    .await
}

fn record(cloud: &FakeReleaseCloud) -> ReleaseRecord {
    cloud.release().unwrap()
}

#[tokio::test]
async fn a_good_two_wave_release_promotes_wave_after_wave() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    live(&cloud, WEST);
    let p = plan(&cloud, "us-east-1;us-west-2").await.unwrap();
    assert_eq!(
        (p["wave"].clone(), p["regions"].clone()),
        (json!(0), json!([EAST]))
    );
    assert_eq!(
        record(&cloud).execution_arn.as_deref(),
        Some("arn:release:1")
    );

    let s = run_region(&cloud, EAST, false).await;
    assert!(s["outcome"].is_null() && s["waitSeconds"] == 10, "{s}");
    let execs = cloud.executions();
    assert_eq!(execs.len(), 1);
    let input: Value = serde_json::from_str(&execs[0].1.input).unwrap();
    assert_eq!(
        input,
        json!({"app": "shop", "env": "prod", "image": "img:2", "deploymentId": "r1", "strategy": null}),
        "the input `cutover deploy --id r1` gives"
    );
    assert!(poll(&cloud, &s).await["outcome"].is_null(), "still running");
    ended(&cloud, EAST, "r1", Status::Promoted, "SUCCEEDED", None);
    assert_eq!(poll(&cloud, &s).await["outcome"], "Promoted");
    assert_eq!(
        step(&cloud, "wave", json!({"wave": 0})).await,
        json!({"next": "bake", "wave": 1, "seconds": 3600, "regions": [WEST]})
    );
    assert!(
        cloud.executions().iter().all(|(_, e)| e.region == EAST),
        "wave 2 waits for the bake"
    );

    let s = run_region(&cloud, WEST, false).await;
    ended(&cloud, WEST, "r1", Status::Promoted, "SUCCEEDED", None);
    assert_eq!(poll(&cloud, &s).await["outcome"], "Promoted");
    assert_eq!(
        step(&cloud, "wave", json!({"wave": 1})).await["next"],
        "done"
    );
    assert_eq!(
        step(&cloud, "finish", json!({"status": "Succeeded"})).await["status"],
        "Succeeded"
    );
    step(&cloud, "finish", json!({"status": "Succeeded"})).await;
    let r = record(&cloud);
    assert_eq!(r.status, ReleaseStatus::Succeeded);
    assert_eq!(
        cloud.archive(),
        std::slice::from_ref(&r),
        "kept in the history once, a retry included"
    );
    assert_eq!(
        r.region(EAST).unwrap().previous_image.as_deref(),
        Some("img:1")
    );
    assert_eq!(r.regions.len(), 2);

    let told = release_events(&cloud);
    let chain: Vec<(Value, Value)> = told
        .iter()
        .map(|d| (d["from"].clone(), d["to"].clone()))
        .collect();
    assert_eq!(
        chain,
        [
            (Value::Null, json!("Running")),
            (json!("Running"), json!("Succeeded"))
        ],
        "the claim and the end, once each (the plan was not retried, the finish was)"
    );
    let end = &told[1];
    assert_eq!(
        (
            end["releaseId"].clone(),
            end["wave"].clone(),
            end["waveCount"].clone()
        ),
        (json!("r1"), json!(2), json!(2))
    );
    assert_eq!(
        end["regions"][1],
        json!({"region": WEST, "wave": 2, "outcome": "Promoted", "revert": null})
    );
    let t = &cloud.telemetry;
    assert_eq!(t.values("ReleasesStarted", None), [(1.0, None)]);
    assert_eq!(
        t.values("ReleasesSucceeded", Some("Outcome")),
        [(1.0, Some("Succeeded".into()))]
    );
    assert_eq!(t.values("ReleasesStopped", None), [(0.0, None)]);
}

/// The `detail` of every `Cutover Release State Change` the release published, in order.
fn release_events(cloud: &FakeReleaseCloud) -> Vec<Value> {
    cloud
        .telemetry
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| t == cutover_core::telemetry::RELEASE_DETAIL_TYPE)
        .map(|(_, d)| d.clone())
        .collect()
}

#[tokio::test]
async fn a_bus_that_refuses_does_not_fail_the_release_and_its_end_is_still_counted() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    cloud
        .telemetry
        .refuse
        .store(true, std::sync::atomic::Ordering::SeqCst);
    plan(&cloud, "us-east-1").await.unwrap();
    let s = run_region(&cloud, EAST, false).await;
    ended(&cloud, EAST, "r1", Status::Promoted, "SUCCEEDED", None);
    poll(&cloud, &s).await;
    step(&cloud, "wave", json!({"wave": 0})).await;
    step(&cloud, "finish", json!({"status": "Succeeded"})).await;
    assert_eq!(record(&cloud).status, ReleaseStatus::Succeeded);
    assert!(release_events(&cloud).is_empty());
    assert_eq!(
        cloud.telemetry.values("ReleasesSucceeded", None),
        [(1.0, None)]
    );
}

/// Wave 1 (east) promotes, wave 2 (west) is rolled back by its verification: what comes next.
async fn east_promoted_then_west_rolled_back(cloud: &FakeReleaseCloud) -> Value {
    let s = run_region(cloud, EAST, false).await;
    ended(cloud, EAST, "r1", Status::Promoted, "SUCCEEDED", None);
    poll(cloud, &s).await;
    step(cloud, "wave", json!({"wave": 0})).await;
    let s = run_region(cloud, WEST, false).await;
    ended(
        cloud,
        WEST,
        "r1",
        Status::RolledBack,
        "FAILED",
        Some("HealthFailed"),
    );
    poll(cloud, &s).await;
    step(cloud, "wave", json!({"wave": 1})).await
}

#[tokio::test]
async fn a_rolled_back_first_wave_stops_the_release() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    plan(&cloud, "us-east-1;us-west-2").await.unwrap();
    let s = run_region(&cloud, EAST, false).await;
    ended(&cloud, EAST, "r1", Status::RolledBack, "ABORTED", None);
    assert_eq!(poll(&cloud, &s).await["outcome"], "RolledBack");
    let next = step(&cloud, "wave", json!({"wave": 0})).await;
    assert_eq!(next["next"], "stop");
    assert!(
        next["reason"]
            .as_str()
            .unwrap()
            .contains("us-east-1: RolledBack"),
        "{next}"
    );
    step(
        &cloud,
        "finish",
        json!({"status": "Stopped", "reason": next["reason"]}),
    )
    .await;
    assert_eq!(record(&cloud).status, ReleaseStatus::Stopped);
    assert!(
        cloud.executions().iter().all(|(_, e)| e.region == EAST),
        "wave 2 never started"
    );
    let end = release_events(&cloud).pop().unwrap();
    assert_eq!(
        (end["to"].clone(), end["notStarted"].clone()),
        (json!("Stopped"), json!([WEST]))
    );
    assert_eq!(end["regions"][0]["outcome"], "RolledBack");
    assert!(end["reason"]
        .as_str()
        .unwrap()
        .contains("us-east-1: RolledBack"));
}

#[tokio::test]
async fn rollback_all_returns_a_promoted_wave_to_its_previous_image() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    live(&cloud, WEST);
    cloud
        .set_plan(json!({"waves": [[EAST], [WEST]], "bakeSeconds": 0, "onFailure": "rollbackAll"}));
    let input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2"});
    release::handle(&cloud, &json!({"action": "plan", "release": input}), 1)
        .await
        .unwrap();
    let next = east_promoted_then_west_rolled_back(&cloud).await;
    assert_eq!(
        (next["next"].clone(), next["regions"].clone()),
        (json!("rollbackAll"), json!([EAST]))
    );

    let s = run_region(&cloud, EAST, true).await;
    let (_, revert) = cloud
        .executions()
        .into_iter()
        .find(|(_, e)| e.input.contains("r1-revert"))
        .unwrap();
    let input: Value = serde_json::from_str(&revert.input).unwrap();
    assert_eq!(
        (
            input["image"].clone(),
            input["strategy"].clone(),
            revert.region.as_str()
        ),
        (json!("img:1"), json!("AllAtOnce"), EAST)
    );
    ended(
        &cloud,
        EAST,
        "r1-revert",
        Status::Promoted,
        "SUCCEEDED",
        None,
    );
    assert_eq!(poll(&cloud, &s).await["outcome"], "Promoted");
    let done = step(
        &cloud,
        "finish",
        json!({"status": "Reverted", "reason": next["reason"]}),
    )
    .await;
    assert_eq!(done["status"], "RolledBack");
    let r = record(&cloud);
    assert_eq!(
        r.region(EAST).unwrap().revert.as_ref().unwrap().image,
        "img:1"
    );
    assert!(r
        .reason
        .unwrap()
        .contains("wave 2 of 2 failed: us-west-2: RolledBack (HealthFailed)"));
}

fn with_pair(cloud: &FakeReleaseCloud) {
    cloud.set_plan(json!({"waves": [[EAST], [WEST]], "failover": [{
        "hostedZoneId": "Z1", "recordName": "live.example.com.",
        "primary": {"region": EAST, "setIdentifier": "primary", "healthCheckId": "hc-east"},
        "secondary": {"region": WEST, "setIdentifier": "secondary", "healthCheckId": "hc-west"}
    }]}));
}

#[tokio::test]
async fn an_unhealthy_partner_refuses_the_region_before_anything_starts() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    live(&cloud, WEST);
    with_pair(&cloud);
    cloud.set_health(
        "hc-west",
        &[
            "Failure: HTTP Status Code 503",
            "Failure: timed out",
            "Success: HTTP Status Code 200",
        ],
    );
    let input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2"});
    release::handle(&cloud, &json!({"action": "plan", "release": input}), 1)
        .await
        .unwrap();
    let s = run_region(&cloud, EAST, false).await;
    assert_eq!(s["outcome"], "Refused");
    let why = s["reason"].as_str().unwrap();
    assert!(
        why.contains("its failover partner us-west-2 is unhealthy (33 % of 3"),
        "{why}"
    );
    assert!(cloud.executions().is_empty(), "nothing started");
    assert_eq!(cloud.health_reads(), ["hc-west"]);
    assert!(step(&cloud, "wave", json!({"wave": 0})).await["reason"]
        .as_str()
        .unwrap()
        .contains("us-east-1: Refused"));
}

#[tokio::test]
async fn a_partner_in_the_middle_of_a_deployment_refuses_the_region() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    live(&cloud, WEST);
    with_pair(&cloud);
    cloud.set_health("hc-west", &["Success: HTTP Status Code 200"; 8]);
    let mut west = cloud.ledger_of(WEST).unwrap();
    west.acquire("hotfix-7", "img:h", None, 1).unwrap();
    cloud.set_ledger(WEST, west);
    let input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2"});
    release::handle(&cloud, &json!({"action": "plan", "release": input}), 1)
        .await
        .unwrap();
    let s = run_region(&cloud, EAST, false).await;
    assert_eq!(s["outcome"], "Refused");
    assert!(s["reason"]
        .as_str()
        .unwrap()
        .contains("us-west-2 is being deployed itself (deployment hotfix-7"));
    assert!(cloud.executions().is_empty());
}

#[tokio::test]
async fn plans_that_cannot_run_are_refused_before_the_release_is_recorded() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    cloud.remove_stack(WEST);
    let e = plan(&cloud, "us-east-1;us-west-2").await.unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidInput);
    assert!(
        e.reason
            .contains("unknown region us-west-2: the release knows us-east-1"),
        "{}",
        e.reason
    );
    let e = plan(&cloud, "").await.unwrap_err();
    assert!(e.reason.contains("waves[0]: is empty"), "{}", e.reason);
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    with_pair(&cloud);
    let e = plan(&cloud, "us-east-1,us-west-2").await.unwrap_err();
    assert!(
        e.reason.contains("both halves of the failover pair"),
        "{}",
        e.reason
    );
    assert!(cloud.release().is_none(), "nothing recorded");
    let long = json!({"action": "plan", "release": {"app": "shop", "env": "prod", "image": "i",
        "releaseId": "a".repeat(34)}});
    let e = release::handle(&cloud, &long, 1).await.unwrap_err();
    assert!(e.reason.contains("at most 33 characters"), "{}", e.reason);
}

#[tokio::test]
async fn a_second_start_of_the_same_release_attaches_and_another_one_waits() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    live(&cloud, EAST);
    plan(&cloud, EAST).await.unwrap();
    let version = record(&cloud).version;
    plan(&cloud, EAST).await.unwrap();
    assert_eq!(
        record(&cloud).version,
        version,
        "the same release, recorded once"
    );
    let first = run_region(&cloud, EAST, false).await;
    let again = run_region(&cloud, EAST, false).await;
    assert_eq!(first["executionArn"], again["executionArn"]);
    assert_eq!(cloud.executions().len(), 1);

    let other = json!({"action": "plan", "release": {"app": "shop", "env": "prod", "image": "i",
        "releaseId": "r2", "waves": EAST}});
    let e = release::handle(&cloud, &other, 1).await.unwrap_err();
    assert_eq!(e.error_type, ErrorType::Conflict);
    assert!(
        e.reason
            .contains("release r1 of shop/prod is still running"),
        "{}",
        e.reason
    );
}

#[tokio::test]
async fn a_release_whose_execution_died_is_ended_failed_and_the_next_one_claims() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    live(&cloud, EAST);
    plan(&cloud, EAST).await.unwrap();
    run_region(&cloud, EAST, false).await;
    // A person stopped the release execution while east deployed: its record stays Running.
    cloud.end_release_execution("arn:release:1", Some("ABORTED"));
    let other = json!({"action": "plan", "release": {"app": "shop", "env": "prod", "image": "i",
        "releaseId": "r2", "waves": EAST}, "executionArn": "arn:release:2"});
    release::handle(&cloud, &other, 5_000).await.unwrap();
    let now = record(&cloud);
    assert_eq!(
        (now.id.as_str(), now.status),
        ("r2", ReleaseStatus::Running)
    );
    let old = cloud
        .archive()
        .into_iter()
        .find(|r| r.id == "r1")
        .expect("r1 kept in the history");
    assert_eq!(old.status, ReleaseStatus::Failed);
    assert_eq!(
        old.reason.as_deref(),
        Some("its release execution ended ABORTED before the release finished")
    );
    let ends: Vec<Value> = release_events(&cloud)
        .into_iter()
        .filter(|d| d["releaseId"] == "r1" && d["to"] != "Running")
        .collect();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["to"], "Failed");
}

#[tokio::test]
async fn a_region_the_function_could_not_read_ends_failed_with_the_error() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    plan(&cloud, EAST).await.unwrap();
    let out = step(&cloud, "fail", json!({"region": EAST, "revert": false, "error": {
        "Error": "AccessDenied", "Cause": "{\"reason\":\"StartExecution was denied by IAM: no\"}"}})).await;
    assert_eq!(out["outcome"], "Failed");
    let r = record(&cloud);
    assert_eq!(
        r.region(EAST).unwrap().deploy.reason.as_deref(),
        Some("AccessDenied: StartExecution was denied by IAM: no")
    );
}

#[tokio::test]
async fn bad_events_are_refused_by_field() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    for (event, field) in [
        (
            json!({"action": "dance", "app": "a", "env": "e", "releaseId": "r"}),
            "action",
        ),
        (
            json!({"action": "start", "app": "a b", "env": "e", "releaseId": "r"}),
            "app",
        ),
        (
            json!({"action": "start", "app": "a", "env": "e", "releaseId": "r", "region": "Mars"}),
            "region",
        ),
        (json!({"action": "plan", "release": 5}), "release"),
    ] {
        let e = release::handle(&cloud, &event, 1).await.unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidInput, "{event}");
        assert!(e.reason.contains(field), "{event}: {}", e.reason);
    }
}

#[tokio::test]
async fn the_sample_events_run_in_order() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    let parse = |s: &str| -> Value { serde_json::from_str(s).unwrap() };
    let plan = parse(include_str!("../../../events/release-plan.json"));
    let out = release::handle(&cloud, &plan, 1).await.unwrap();
    assert_eq!(out["regions"], json!([EAST]));
    let start = parse(include_str!("../../../events/release-start.json"));
    let started = release::handle(&cloud, &start, 2).await.unwrap();
    let arn = started["executionArn"].as_str().unwrap().to_string();
    let mut poll = parse(include_str!("../../../events/release-poll.json"));
    poll["executionArn"] = json!(arn);
    let out = release::handle(&cloud, &poll, 3).await.unwrap();
    assert!(out["outcome"].is_null(), "{out}");
    let input: Value = serde_json::from_str(&cloud.executions()[0].1.input).unwrap();
    assert_eq!(
        input["strategy"], "Canary10Percent5Minutes",
        "the release's strategy reaches the region"
    );
}

#[tokio::test]
async fn a_step_that_failed_past_its_retries_ends_the_release_failed_with_its_error() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    live(&cloud, EAST);
    plan(&cloud, EAST).await.unwrap();
    let cause = json!({"errorType": "AwsTransient", "errorMessage":
        json!({"errorType": "AwsTransient", "reason": "PutItem failed transiently: throttled"}).to_string()});
    let out = step(
        &cloud,
        "finish",
        json!({"status": "Failed", "error": {"Error": "AwsTransient", "Cause": cause.to_string()}}),
    )
    .await;
    assert_eq!(out["status"], "Failed");
    let r = record(&cloud);
    assert_eq!(r.status, ReleaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("AwsTransient: PutItem failed transiently: throttled")
    );
    assert_eq!(cloud.archive().len(), 1, "kept in the history");
    assert_eq!(release_events(&cloud).last().unwrap()["to"], "Failed");
}

#[tokio::test]
async fn a_start_retried_after_its_execution_began_attaches_without_asking_the_gate_again() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    live(&cloud, WEST);
    with_pair(&cloud);
    cloud.set_health("hc-west", &["Success: HTTP Status Code 200"]);
    let input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2"});
    release::handle(&cloud, &json!({"action": "plan", "release": input}), 1)
        .await
        .unwrap();
    let first = run_region(&cloud, EAST, false).await;
    // The try died after StartExecution, before it recorded the ARN; then the partner turned bad.
    cloud.edit_release(|r| r.run_mut(EAST, false).unwrap().execution_arn = None);
    cloud.set_health("hc-west", &["Failure: HTTP Status Code 503"]);
    let again = run_region(&cloud, EAST, false).await;
    assert!(again["outcome"].is_null(), "{again}");
    assert_eq!(again["executionArn"], first["executionArn"]);
    assert_eq!(cloud.executions().len(), 1);
    assert_eq!(
        record(&cloud).region(EAST).unwrap().deploy.execution_arn,
        first["executionArn"].as_str().map(String::from)
    );
}

#[tokio::test]
async fn a_revert_is_refused_while_its_failover_partner_is_unhealthy() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    live(&cloud, EAST);
    live(&cloud, WEST);
    cloud.set_plan(
        json!({"waves": [[EAST], [WEST]], "bakeSeconds": 0, "onFailure": "rollbackAll",
        "failover": [{"hostedZoneId": "Z1", "recordName": "live.example.com.",
        "primary": {"region": EAST, "setIdentifier": "primary", "healthCheckId": "hc-east"},
        "secondary": {"region": WEST, "setIdentifier": "secondary", "healthCheckId": "hc-west"}}]}),
    );
    cloud.set_health("hc-west", &["Success: HTTP Status Code 200"]);
    cloud.set_health("hc-east", &["Success: HTTP Status Code 200"]);
    let input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2"});
    release::handle(&cloud, &json!({"action": "plan", "release": input}), 1)
        .await
        .unwrap();
    assert_eq!(
        east_promoted_then_west_rolled_back(&cloud).await["next"],
        "rollbackAll"
    );
    // West's outage outlasts its rollback: reverting east now could leave no healthy half.
    cloud.set_health("hc-west", &["Failure: HTTP Status Code 503"]);
    let revert = run_region(&cloud, EAST, true).await;
    assert_eq!(revert["outcome"], "Refused", "{revert}");
    assert!(
        revert["reason"]
            .as_str()
            .unwrap()
            .contains("its failover partner us-west-2 is unhealthy"),
        "{revert}"
    );
    assert!(
        !cloud
            .executions()
            .iter()
            .any(|(_, e)| e.input.contains("r1-revert")),
        "no revert started"
    );
    let done = step(&cloud, "finish", json!({"status": "Reverted"})).await;
    assert_eq!(done["status"], "Failed");
}

#[tokio::test]
async fn the_same_release_id_for_another_image_is_refused_not_replayed() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    live(&cloud, EAST);
    plan(&cloud, EAST).await.unwrap();
    let other = json!({"action": "plan", "release": {"app": "shop", "env": "prod",
        "image": "img:3", "releaseId": "r1", "waves": EAST}});
    let e = release::handle(&cloud, &other, 1).await.unwrap_err();
    assert_eq!(e.error_type, ErrorType::Conflict);
    assert!(
        e.reason.contains(
            "release r1 of shop/prod was started for img:2; give this release another id"
        ),
        "{}",
        e.reason
    );
    assert_eq!(record(&cloud).image, "img:2");
}

#[tokio::test]
async fn the_command_lines_bake_and_on_failure_override_the_stored_plan_and_are_checked() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST, WEST]);
    cloud.set_plan(json!({"waves": [[EAST], [WEST]], "bakeSeconds": 3600, "onFailure": "stop"}));
    let ev = |extra: Value| {
        let mut input = json!({"app": "shop", "env": "prod", "releaseId": "r1", "image": "img:2"});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"action": "plan", "release": input})
    };
    let bad = release::handle(
        &cloud,
        &ev(json!({"onFailure": "retry", "bakeSeconds": -1})),
        1,
    )
    .await
    .unwrap_err();
    assert_eq!(bad.error_type, ErrorType::InvalidInput);
    assert!(
        bad.reason.contains("onFailure") && bad.reason.contains("bakeSeconds"),
        "{}",
        bad.reason
    );
    assert!(cloud.release().is_none(), "nothing recorded");
    let p = release::handle(
        &cloud,
        &ev(json!({"onFailure": "rollbackAll", "bakeSeconds": 0})),
        1,
    )
    .await
    .unwrap();
    assert_eq!(
        (p["bakeSeconds"].clone(), p["onFailure"].clone()),
        (json!(0), json!("rollbackAll"))
    );
    assert_eq!(record(&cloud).plan.waves.len(), 2, "the stored waves");
}

#[tokio::test]
async fn near_the_history_limit_the_release_stops_following_a_region_and_says_why() {
    let cloud = FakeReleaseCloud::with_regions(&[EAST]);
    live(&cloud, EAST);
    plan(&cloud, EAST).await.unwrap();
    let s = run_region(&cloud, EAST, false).await;
    let poll_at = |now: u64| {
        let ev = ev(
            "poll",
            json!({"region": EAST, "revert": false, "executionArn": s["executionArn"]}),
        );
        let cloud = cloud.clone();
        async move { release::handle(&cloud, &ev, now).await.unwrap() }
    };
    // A day in: still followed, at the unslowed wait.
    let day = poll_at(86_400_000).await;
    assert!(day["outcome"].is_null(), "{day}");
    assert_eq!(day["waitSeconds"], 300);
    // Ten days in, the one execution would have polled past the guard: the run ends Failed.
    let late = poll_at(10 * 86_400_000).await;
    assert_eq!(late["outcome"], "Failed", "{late}");
    let why = late["reason"].as_str().unwrap();
    assert!(
        why.contains("the release stopped following us-east-1")
            && why.contains("goes on by itself"),
        "{why}"
    );
}
