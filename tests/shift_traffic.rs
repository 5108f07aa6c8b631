//! The deployed shift-traffic function, invoked through ministack's Lambda API, moves the weights on
//! the (moto) load balancer — and refuses bad weights without touching them.

use cutover_core::traffic::Weights;
use cutover_scenarios::LocalCloud;
use serde_json::{json, Value};

#[tokio::test]
async fn shifts_the_listener_and_refuses_bad_weights() {
    let cloud = LocalCloud::connect().await;
    let function = cloud.output("ShiftTrafficFunctionName");
    cloud
        .set_listener_weights(Weights::new(100, 0).unwrap())
        .await;

    let sample: Value = serde_json::from_str(include_str!("../events/shift-traffic.json")).unwrap();
    let ok = cloud.invoke(&function, &sample).await;
    assert_eq!(ok.error_type, None, "payload: {}", ok.payload);
    assert_eq!(ok.payload["weights"], json!({"blue": 90, "green": 10}));
    assert_eq!(
        cloud.listener_weights().await,
        Weights::new(90, 10).unwrap()
    );

    let bad = cloud
        .invoke(&function, &json!({"weights": {"blue": 60, "green": 60}}))
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
}
