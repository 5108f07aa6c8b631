//! The deployed shift-traffic function, invoked through ministack's Lambda API, moves the weights on
//! the (moto) load balancer for an active deployment — and refuses bad weights without touching them.

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

    let mut sample: Value =
        serde_json::from_str(include_str!("../events/shift-traffic.json")).unwrap();
    sample["deploymentId"] = json!(id);
    let shift = cloud.output("ShiftTrafficFunctionName");
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
    let live = cloud.ledger().await.unwrap().live_colour;
    assert_eq!(cloud.listener_weights().await, Weights::all_on(live));
}
