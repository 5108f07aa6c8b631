//! prepare's failover gate: a region that is one half of a Route 53 failover record (the target
//! configuration's `failover`) deploys only while the other half is healthy and not deploying.
//! The fake's region is us-east-1, the primary; us-west-2 is its partner.

use cutover_aws::fakes::{sample_target, FakeCloud};
use cutover_core::release::{FailoverHalf, FailoverRecord};
use cutover_core::{AnyTarget, ErrorType, Failure, Status};
use serde_json::{json, Value};

fn half(region: &str, health_check_id: &str) -> FailoverHalf {
    FailoverHalf {
        region: region.into(),
        set_identifier: region.into(),
        health_check_id: health_check_id.into(),
    }
}

fn paired(primary: &str, secondary: &str) -> FakeCloud {
    let mut t = sample_target();
    t.failover = Some(FailoverRecord {
        hosted_zone_id: "Z0123456789".into(),
        record_name: "live.example.com.".into(),
        primary: half(primary, "hc-primary"),
        secondary: half(secondary, "hc-secondary"),
        min_healthy_share: 0.5,
    });
    FakeCloud::builder()
        .target("live#prod", AnyTarget::BlueGreen(Box::new(t)))
        .build()
}

async fn prepare(c: &FakeCloud, id: &str) -> Result<Value, Failure> {
    let event = json!({"app": "live", "env": "prod", "image": "live:2.0.0", "deploymentId": id});
    let out = prepare::handle(c, &event, 1_000).await;
    c.assert_calls_within(prepare::CALLS);
    out
}

#[tokio::test]
async fn an_unhealthy_partner_refuses_before_anything_is_claimed_or_started() {
    let c = paired("us-east-1", "us-west-2");
    c.partners.set_health("hc-secondary", 2, 6);
    let err = prepare(&c, "d1").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict, "{err}");
    assert!(
        err.reason.contains("its failover partner us-west-2 is unhealthy (25 % of 8 Route 53 checkers report success, 50 % needed)"),
        "{}",
        err.reason
    );
    assert_eq!(c.writes(), Vec::<&str>::new(), "nothing written");
    assert_eq!(c.services.get("svc-green").desired, 0);
}

#[tokio::test]
async fn a_missing_health_check_is_not_healthy() {
    let c = paired("us-east-1", "us-west-2");
    let err = prepare(&c, "d1").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert!(
        err.reason
            .contains("us-west-2's health check hc-secondary does not exist in Route 53"),
        "{}",
        err.reason
    );
    assert!(c.writes().is_empty());
}

#[tokio::test]
async fn a_partner_in_a_deployment_of_its_own_refuses() {
    let c = paired("us-west-2", "us-east-1");
    c.partners.set_health("hc-primary", 8, 0);
    c.partners
        .set_in_flight("us-west-2", "w7", Status::Verifying);
    let err = prepare(&c, "d1").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert!(
        err.reason.contains(
            "its failover partner us-west-2 is being deployed itself (deployment w7, Verifying)"
        ),
        "{}",
        err.reason
    );
    assert!(c.writes().is_empty());
}

#[tokio::test]
async fn a_healthy_idle_partner_lets_the_deployment_claim_and_a_retry_is_not_asked_again() {
    let c = paired("us-east-1", "us-west-2");
    c.partners.set_health("hc-secondary", 8, 0);
    prepare(&c, "d1").await.unwrap();
    assert_eq!(
        c.stored_ledger().deployment.unwrap().status,
        Status::Preparing
    );
    // The partner turns unhealthy after the claim: Step Functions' retry of this prepare goes on.
    c.partners.set_health("hc-secondary", 0, 8);
    prepare(&c, "d1").await.unwrap();
    assert_eq!(c.services.get("svc-green").desired, 3);
}

#[tokio::test]
async fn a_record_without_a_half_in_this_region_is_invalid_input() {
    let c = paired("eu-west-1", "us-west-2");
    let err = prepare(&c, "d1").await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(
        err.reason
            .contains("halves in eu-west-1 and us-west-2, not in this region (us-east-1)"),
        "{}",
        err.reason
    );
    assert!(c.writes().is_empty());
}

#[tokio::test]
async fn no_failover_record_asks_nothing_of_route_53() {
    let c = FakeCloud::new();
    prepare(&c, "d1").await.unwrap();
    let calls = c.calls();
    assert!(
        !calls.iter().any(|k| k.starts_with("Partners::")),
        "{calls:?}"
    );
}
