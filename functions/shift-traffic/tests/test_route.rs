//! The test route over in-memory ports: opened before any production weight, found again by its
//! tags on a retry, a stale rule replaced, and closed again when a rollback wins the race.

use cutover_aws::fakes::{sample_target, FakeCloud, BLUE_TG, GREEN_TG, LISTENER};
use cutover_aws::LedgerStore;
use cutover_core::target::test_route::{DEPLOYMENT_TAG, TEST_ROUTE_TAG};
use cutover_core::target::HeaderRoute;
use cutover_core::traffic::ForwardRoute;
use cutover_core::{AnyTarget, Colour, ErrorType, Ledger, Release, Weights};
use serde_json::{json, Value};

const TEST_LISTENER: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/3";

fn header() -> HeaderRoute {
    HeaderRoute {
        name: "X-Cutover-Candidate".into(),
        value: "1".into(),
        priority: 10,
    }
}

/// `live/prod` with a test listener and a header route, deployment `d1` prepared for green.
async fn cloud() -> FakeCloud {
    let mut t = sample_target();
    t.test_listener_arn = Some(TEST_LISTENER.into());
    t.test_header = Some(header());
    let c = FakeCloud::builder()
        .target("live#prod", AnyTarget::BlueGreen(Box::new(t)))
        .build();
    c.lb.routes.lock().unwrap().insert(
        TEST_LISTENER.into(),
        ForwardRoute::for_weights(BLUE_TG, GREEN_TG, Weights::all_on(Colour::Blue)),
    );
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire("d1", "live:2", None, 1).unwrap();
    let release = Release {
        task_definition_arn: "td:2".into(),
        image: "live:2".into(),
    };
    l.set_release("d1", release, 1).unwrap();
    assert!(c.ledger.save(&l).await.unwrap());
    c
}

/// events/shift-traffic-test-route.json, for app `live` and deployment `id`.
fn open_event(id: &str) -> Value {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../../events/shift-traffic-test-route.json"
    ))
    .unwrap();
    v["app"] = json!("live");
    v["deploymentId"] = json!(id);
    v
}

async fn open(c: &FakeCloud, id: &str) -> Result<Value, cutover_core::Failure> {
    let out = shift_traffic::handle(c, &open_event(id), 5).await;
    c.assert_calls_within(shift_traffic::CALLS);
    out
}

fn on(c: &FakeCloud, arn: &str) -> Vec<(String, i32)> {
    c.lb.route(arn)
        .groups
        .into_iter()
        .filter(|g| g.weight > 0)
        .map(|g| (g.target_group_arn, g.weight))
        .collect()
}

#[tokio::test]
async fn the_test_route_points_at_the_candidate_before_any_production_weight_and_a_retry_reuses_it()
{
    let c = cloud().await;
    let out = open(&c, "d1").await.unwrap();
    let rules = c.lb.rules_on(LISTENER);
    assert_eq!(rules.len(), 1);
    let (arn, rule) = &rules[0];
    assert_eq!(out["testRoute"]["ruleArn"], json!(arn));
    assert_eq!(rule.header, header());
    assert_eq!(rule.tags[TEST_ROUTE_TAG], "live/prod");
    assert_eq!(rule.tags[DEPLOYMENT_TAG], "d1");
    assert_eq!(on(&c, arn), [(GREEN_TG.to_string(), 1)]);
    assert_eq!(on(&c, TEST_LISTENER), [(GREEN_TG.to_string(), 100)]);
    assert_eq!(
        c.weights(),
        Weights::all_on(Colour::Blue),
        "production untouched"
    );
    let d = c.stored_ledger().deployment.unwrap();
    let r = d.test_route.expect("recorded");
    assert_eq!(r.rule_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(r.listener_arn.as_deref(), Some(TEST_LISTENER));

    open(&c, "d1").await.unwrap();
    assert_eq!(
        c.lb.rules_on(LISTENER).len(),
        1,
        "no second rule on a retry"
    );
}

#[tokio::test]
async fn a_rule_another_deployment_left_is_replaced() {
    let c = cloud().await;
    let stale_tags = [
        (TEST_ROUTE_TAG.to_string(), "live/prod".to_string()),
        (DEPLOYMENT_TAG.to_string(), "d0".to_string()),
    ];
    let stale = cutover_aws::LoadBalancer::create_header_rule(
        &c.lb,
        LISTENER,
        &HeaderRoute {
            priority: 11,
            ..header()
        },
        BLUE_TG,
        &stale_tags,
    )
    .await
    .unwrap();
    open(&c, "d1").await.unwrap();
    let rules = c.lb.rules_on(LISTENER);
    assert_eq!(rules.len(), 1);
    assert_ne!(rules[0].0, stale);
    assert_eq!(rules[0].1.tags[DEPLOYMENT_TAG], "d1");
}

#[tokio::test]
async fn no_test_route_is_opened_after_production_traffic_moved_or_once_a_rollback_claimed() {
    let c = cloud().await;
    c.edit_ledger(|l| {
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 3)
            .unwrap();
    })
    .await;
    let err = open(&c, "d1").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert!(c.lb.rules_on(LISTENER).is_empty());

    let c = cloud().await;
    c.edit_ledger(|l| {
        l.claim_rollback("manual", "manual", None, 3).unwrap();
    })
    .await;
    let err = open(&c, "d1").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Aborted);
    assert!(c.lb.rules_on(LISTENER).is_empty());
    assert_eq!(on(&c, TEST_LISTENER), [(BLUE_TG.to_string(), 100)]);
}

#[tokio::test]
async fn a_bad_test_route_request_is_refused_before_any_call() {
    let c = cloud().await;
    let mut e = open_event("d1");
    e["testRoute"] = json!("close");
    let err = shift_traffic::handle(&c, &e, 5).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(c.lb.rules_on(LISTENER).is_empty());
    assert_eq!(on(&c, TEST_LISTENER), [(BLUE_TG.to_string(), 100)]);
}
