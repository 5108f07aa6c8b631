//! The migrate function over a fake cloud: what it refuses before any password is read.

use cutover_aws::fakes::FakeCloud;
use cutover_core::ErrorType;
use migrate::{handle, MigrateRequest};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

fn sample(phase: &str) -> Value {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/migrate-backfill.json"
    ));
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["phase"] = json!(phase);
    v
}

#[tokio::test]
async fn bad_events_are_refused_before_any_call() {
    let cloud = FakeCloud::new();
    let mut injected = sample("expand");
    injected["spec"]["source"] = json!("events; DROP TABLE x");
    let mut bad_cursor = sample("backfill");
    bad_cursor["cursor"] = json!([1, 2]);
    let cases = [
        (json!({}), "phase: must be one of"),
        (sample("drop"), "phase: must be one of"),
        (
            injected,
            "spec.source: \"events; DROP TABLE x\" is not an identifier",
        ),
        (bad_cursor, "cursor: must be null or 1 key values"),
    ];
    for (event, want) in cases {
        let err = handle(&cloud, &event).await.unwrap_err();
        cloud.assert_calls_within(migrate::CALLS);
        assert_eq!(err.error_type, ErrorType::InvalidInput);
        assert!(
            err.reason.contains(want),
            "{} does not contain {want}",
            err.reason
        );
    }
    assert_eq!(cloud.secrets.reads(), 0);
    assert_eq!(cloud.switches.writes.load(Ordering::SeqCst), 0);
}

/// An RDS-shaped secret names its database: the password never goes to a host the spec names
/// instead (the spec is anyone's text; the secret is the database owner's).
#[tokio::test]
async fn a_spec_pointing_the_password_elsewhere_is_refused_before_connecting() {
    let cloud = FakeCloud::new();
    let mut event = sample("expand");
    let secret = event["spec"]["database"]["passwordSecret"]
        .as_str()
        .unwrap()
        .to_string();
    cloud.secrets.passwords.lock().unwrap().insert(
        secret,
        json!({"username": "app", "password": "s3cret", "engine": "postgres",
               "host": "live.cluster-x.eu-west-1.rds.amazonaws.com", "port": 5432,
               "dbname": "live_event"})
        .to_string(),
    );
    event["spec"]["database"]["host"] = json!("attacker.example.com");
    event["spec"]["database"]["tls"] = json!("verify-full");
    let err = handle(&cloud, &event).await.unwrap_err();
    assert_eq!(err.error_type, ErrorType::InvalidInput);
    assert!(
        err.reason
            .starts_with("database.host is attacker.example.com"),
        "{}",
        err.reason
    );
    assert!(!err.reason.contains("s3cret"));
}

#[test]
fn every_phase_sample_parses() {
    for phase in [
        "expand",
        "backfill",
        "verify",
        "switch",
        "switch-flag",
        "contract",
        "restore",
        "revert",
    ] {
        let path = format!(
            "{}/../../events/migrate-{phase}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let req = MigrateRequest::from_event(&v).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(req.phase.phase.as_str(), phase.trim_end_matches("-flag"));
    }
}
