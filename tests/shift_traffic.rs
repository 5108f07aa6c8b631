//! The deployed shift-traffic function, invoked through ministack's Lambda API, moves the weights on
//! the (moto) load balancer for an active deployment — and refuses bad weights without touching them.
//! Before that it opens the test route (a tagged header rule, the test listener) to the candidate;
//! the rollback that ends the scenario closes it.

use cutover_core::traffic::Weights;
use cutover_scenarios::LocalCloud;
use serde_json::{json, Value};

#[tokio::test]
async fn shifts_the_listener_and_refuses_bad_weights() {
    let cloud = LocalCloud::connect().await;
    let (app, env) = (cloud.seeded("app"), cloud.seeded("env"));
    let id = format!(
        "shift{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    // A deployment must own the ledger before traffic moves: prepare claims it.
    let prepared = cloud
        .invoke(
            &cloud.output("PrepareFunctionName"),
            &json!({"app": app, "env": env, "image": "live:shift-test", "deploymentId": id}),
        )
        .await;
    assert_eq!(prepared.error_type, None, "prepare: {}", prepared.payload);

    let shift = cloud.output("ShiftTrafficFunctionName");
    let candidate = cloud.ledger().await.unwrap().deployment.unwrap().candidate;
    let candidate_tg = cloud.seeded(&format!("targetGroups.{candidate}"));
    let live = Weights::all_on(candidate.other());
    let mut open: Value =
        serde_json::from_str(include_str!("../events/shift-traffic-test-route.json")).unwrap();
    open["deploymentId"] = json!(id);
    for _ in 0..2 {
        // Twice: a retry finds its rule by the tags and creates no second one.
        let opened = cloud.invoke(&shift, &open).await;
        assert_eq!(opened.error_type, None, "payload: {}", opened.payload);
    }
    assert_eq!(cloud.test_rules().await, [vec![candidate_tg.clone()]]);
    assert_eq!(
        cloud.test_listener_weights().await,
        Weights::all_on(candidate)
    );
    assert_eq!(
        cloud.listener_weights().await,
        live,
        "no production weight yet"
    );

    let mut sample: Value =
        serde_json::from_str(include_str!("../events/shift-traffic.json")).unwrap();
    sample["deploymentId"] = json!(id);
    let ok = cloud.invoke(&shift, &sample).await;
    assert_eq!(ok.error_type, None, "payload: {}", ok.payload);
    assert_eq!(ok.payload["weights"], json!({"blue": 90, "green": 10}));
    assert_eq!(
        cloud.listener_weights().await,
        Weights::new(90, 10).unwrap()
    );

    let bad = cloud
        .invoke(&shift, &json!({"weights": {"blue": 60, "green": 60}}))
        .await;
    assert_eq!(
        bad.error_type.as_deref(),
        Some("InvalidInput"),
        "payload: {}",
        bad.payload
    );
    let cause: Value = serde_json::from_str(bad.payload["errorMessage"].as_str().unwrap()).unwrap();
    assert!(
        cause["reason"].as_str().unwrap().contains("sum to 100"),
        "{cause}"
    );
    assert_eq!(
        cloud.listener_weights().await,
        Weights::new(90, 10).unwrap(),
        "a refused shift changed the listener"
    );

    // Leave the service as found: the manual rollback ends this deployment.
    let rolled = cloud
        .invoke(
            &cloud.output("RollbackFunctionName"),
            &json!({"app": app, "env": env, "reason": "scenario cleanup"}),
        )
        .await;
    assert_eq!(rolled.error_type, None, "rollback: {}", rolled.payload);
    let ledger = cloud.ledger().await.unwrap();
    assert_eq!(cloud.listener_weights().await, live);
    assert_eq!(
        cloud.test_rules().await,
        Vec::<Vec<String>>::new(),
        "the test rule is gone"
    );
    assert_eq!(cloud.test_listener_weights().await, live);
    let route = ledger.deployment.unwrap().test_route.expect("recorded");
    assert!(route.closed_at_ms.is_some(), "{route:?}");
}
