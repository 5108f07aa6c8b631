//! The migration spec is refused, field by field, before anything could reach a database.

use cutover_core::migration::{Expr, FlagRef, MigrationSpec, PasswordRef, SwitchTarget};
use serde_json::{json, Value};

fn sample() -> Value {
    let text = include_str!("../../../local/migrate/tickets-spec.json");
    serde_json::from_str(text).unwrap()
}

fn problems(v: &Value) -> Vec<String> {
    MigrationSpec::from_json(v)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn the_sample_spec_is_valid() {
    let spec = MigrationSpec::from_json(&sample()).unwrap();
    assert_eq!(spec.id, "tickets-v2");
    assert_eq!(spec.source.quoted(), "\"public\".\"tickets\"");
    assert_eq!(spec.key_target(&spec.key[0]).unwrap().name.as_str(), "id");
    assert_eq!(
        spec.database.password,
        PasswordRef::Secret("cutover/live-event/db".into())
    );
    assert!(!spec.database.tls);
    let reverse: Vec<String> = spec
        .reverse_mapping()
        .iter()
        .map(|(c, e)| format!("{c}={}", e.sql("t")))
        .collect();
    assert_eq!(
        reverse,
        [
            "email=t.\"email_lower\"",
            "price=CAST((t.\"price_cents\" / 100.0) AS numeric(10,2))",
            "id=t.\"id\"",
            "event_id=t.\"event_id\"",
            "holder=t.\"holder_name\"",
            "status=t.\"status\"",
            "updated_at=t.\"updated_at\"",
        ]
    );
}

#[test]
fn an_injected_identifier_is_refused_by_field() {
    let mut v = sample();
    v["source"] = json!("events; DROP TABLE x");
    let p = problems(&v);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("source: \"events; DROP TABLE x\" is not an identifier"),
        "{p:?}"
    );

    let mut v = sample();
    v["target"]["columns"][2]["from"] = json!("holder); DROP TABLE tickets; --");
    assert!(
        problems(&v)[0].starts_with("target.columns[2].from:"),
        "{:?}",
        problems(&v)
    );

    let mut v = sample();
    v["target"]["columns"][5]["type"] = json!("text; DROP TABLE x");
    assert!(problems(&v)[0].starts_with("target.columns[5].type:"));

    let mut v = sample();
    v["reverse"]["email"] = json!("pg_sleep(100)");
    assert!(problems(&v)[0].contains("function pg_sleep is not allowed"));
}

#[test]
fn every_problem_is_named() {
    let v = json!({
        "id": "Tickets V2",
        "database": {"host": "db", "name": "x", "user": "u", "tls": "prefer"},
        "source": "tickets",
        "target": {"table": "tickets", "columns": [{"name": "id", "type": "bigint", "nullable": false}]},
        "key": ["id"],
        "batchSize": 0,
        "switch": {"parameter": "no-slash", "value": "v2"}
    });
    let p = problems(&v);
    for field in [
        "id:",
        "database.passwordSecret:",
        "database.tls:",
        "target.columns[0].from:",
        "batchSize:",
        "switch.parameter:",
    ] {
        assert!(
            p.iter().any(|e| e.starts_with(field)),
            "{field} missing from {p:?}"
        );
    }
}

#[test]
fn key_columns_must_be_copied_plainly() {
    let mut v = sample();
    v["key"] = json!(["holder", "email"]);
    let p = problems(&v);
    assert!(
        p.iter()
            .any(|e| e.contains("email must be copied as it is")),
        "{p:?}"
    );
    let mut v = sample();
    v["reverse"]["nope"] = json!("missing_col");
    assert!(problems(&v)
        .iter()
        .any(|e| e.contains("missing_col is not a target column")));
    let mut v = sample();
    v["target"]["table"] = json!("tickets");
    assert!(problems(&v)
        .iter()
        .any(|e| e.starts_with("target.table: must differ")));
    assert!(Expr::parse("lower(email)").is_ok());
}

#[test]
fn the_switch_may_be_an_appconfig_flag() {
    let mut v = sample();
    v["switch"] = json!({"flag": {"application": "live-event", "environment": "prod",
        "profile": "tables", "name": "ticketsV2"}});
    let spec = MigrationSpec::from_json(&v).unwrap();
    assert_eq!(
        spec.switch.at,
        SwitchTarget::Flag(FlagRef {
            application: "live-event".into(),
            environment: "prod".into(),
            profile: "tables".into(),
            flag: "ticketsV2".into(),
        })
    );
    assert_eq!(spec.switch.value, r#"{"enabled":true}"#);

    let mut both = v.clone();
    both["switch"]["parameter"] = json!("/live-event/table");
    assert_eq!(
        problems(&both),
        ["switch.flag: give a parameter or a flag, not both"]
    );
    let mut bad = v.clone();
    bad["switch"]["value"] = json!("tickets_v2");
    bad["switch"]["flag"]["name"] = json!("tickets v2; x");
    bad["switch"]["flag"]
        .as_object_mut()
        .unwrap()
        .remove("profile");
    let got = problems(&bad);
    assert!(
        got.iter()
            .any(|p| p.starts_with("switch.value: a flag switch turns the flag on")),
        "{got:?}"
    );
    assert!(
        got.contains(&"switch.flag.profile: is required".to_string()),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("switch.flag.name: \"tickets v2; x\" is not a flag key")),
        "{got:?}"
    );
}

#[test]
fn passwords_are_read_only_where_the_migrate_functions_policy_allows() {
    let with = |field: &str, value: &str| {
        let mut v = sample();
        let db = v["database"].as_object_mut().unwrap();
        db.remove("passwordSecret");
        db.insert(field.into(), json!(value));
        match MigrationSpec::from_json(&v) {
            Ok(_) => Vec::new(),
            Err(_) => problems(&v),
        }
    };
    assert!(with("passwordSecret", "cutover/live-event/db").is_empty());
    let rds = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b-AbCdEf";
    assert!(with("passwordSecret", rds).is_empty());
    assert!(with("passwordParameter", "/cutover/db/live-event").is_empty());
    // Another team's secret, or a parameter every function can read, is refused by name.
    let p = with("passwordSecret", "payments/prod/db");
    assert!(
        p[0].starts_with("database.passwordSecret: must be a secret named cutover/"),
        "{p:?}"
    );
    let p = with("passwordParameter", "/cutover/live-event/prod/target");
    assert!(p[0].contains("under /cutover/db/"), "{p:?}");
}

#[test]
fn tls_may_be_disabled_only_for_a_database_on_this_machine() {
    for (host, ok) in [
        ("127.0.0.1", true),
        ("::1", true),
        ("localhost", true),
        ("db.internal", false),
        ("10.0.0.5", false),
    ] {
        let mut v = sample();
        v["database"]["host"] = json!(host);
        v["database"]["tls"] = json!("disable");
        match MigrationSpec::from_json(&v) {
            Ok(_) => assert!(ok, "{host}: a password in clear over the network"),
            Err(e) => {
                assert!(!ok, "{host}: {e:?}");
                assert_eq!(e[0].field, "database.tls");
            }
        }
    }
}
