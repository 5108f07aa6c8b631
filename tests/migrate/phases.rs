//! Each phase on its own: re-runs, order, plans, TLS, and the AppConfig flag switch.

use super::*;

/// Everything a phase leaves behind that a second run could change.
async fn state(m: &Migration) -> Value {
    let row = m.db.query_opt(
        "SELECT stage, verified, switch_recorded, switch_previous FROM cutover.migrations WHERE id = $1",
        &[&m.spec.id]).await.unwrap();
    let triggers: Vec<String> =
        m.db.query(
            "SELECT tgname::text FROM pg_trigger WHERE tgname LIKE 'cutover_%' || $1 ORDER BY 1",
            &[&m.name.as_str()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let source = if m.exists("").await {
        Some(read(&m.db, &m.name, false).await.len())
    } else {
        None
    };
    let target = if m.exists("_v2").await {
        Some(read(&m.db, &m.name, true).await.len())
    } else {
        None
    };
    serde_json::json!({
        "row": row.map(|r| (r.get::<_, String>(0), r.get::<_, bool>(1), r.get::<_, bool>(2), r.get::<_, Option<String>>(3))),
        "triggers": triggers, "source": source, "target": target,
        "switch": m.switch.value(&m.parameter()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_phase_run_twice_gives_the_same_result_as_once() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    for with_revert in [false, true] {
        let name = cutover_scenarios::unique(if with_revert {
            "tickets_tr_"
        } else {
            "tickets_tw_"
        });
        let mut m = Migration::new(&name, 3000).await;
        pg::create_source(&m.db, &name, 10_000).await;
        m.switch
            .values
            .lock()
            .unwrap()
            .insert(m.parameter(), name.clone());
        let mut phases = vec![Phase::Expand, Phase::Backfill, Phase::Verify, Phase::Switch];
        if with_revert {
            phases.extend([Phase::Restore, Phase::Revert]);
        } else {
            phases.push(Phase::Contract);
        }
        let mut cursor: Option<Vec<String>> = None;
        for phase in phases {
            // Backfill's retry is the same call with the same cursor; do the whole copy that way.
            loop {
                let first = m.try_phase(phase, cursor.clone()).await.unwrap();
                let after_first = state(&m).await;
                let second = m.try_phase(phase, cursor.clone()).await.unwrap();
                assert_eq!(
                    state(&m).await,
                    after_first,
                    "{phase}: second run changed the state"
                );
                match phase {
                    Phase::Backfill => {
                        assert_eq!(first["cursor"], second["cursor"], "{phase}");
                        assert_eq!(second["copied"], 0, "{phase}: the retry copied again");
                    }
                    Phase::Contract => assert_eq!(second["alreadyDone"], true),
                    _ => {
                        let strip = |mut v: Value| {
                            v.as_object_mut().unwrap().remove("alreadyDone");
                            v
                        };
                        assert_eq!(strip(first.clone()), strip(second), "{phase}");
                    }
                }
                if phase != Phase::Backfill || first["done"] == true {
                    break;
                }
                cursor = serde_json::from_value(first["cursor"].clone()).unwrap();
            }
        }
        let expected = if with_revert {
            Some(name.clone())
        } else {
            Some(format!("{name}_v2"))
        };
        assert_eq!(
            m.switch.value(&m.parameter()),
            expected,
            "revert restored the first value, not the new one"
        );
    }
}

#[tokio::test]
async fn phases_out_of_order_are_refused_with_the_reason() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let name = cutover_scenarios::unique("tickets_order_");
    let mut m = Migration::new(&name, 1000).await;
    pg::create_source(&m.db, &name, 100).await;
    let err = m.try_phase(Phase::Backfill, None).await.unwrap_err();
    assert!(err.reason.contains("run expand first"), "{err}");
    m.phase(Phase::Expand).await;
    let err = m.try_phase(Phase::Switch, None).await.unwrap_err();
    assert!(err.reason.contains("no passed verify"), "{err}");
    let err = m.try_phase(Phase::Contract, None).await.unwrap_err();
    assert!(err.reason.contains("contract refused"), "{err}");
    // Rows changed behind the triggers' back (with them disabled) fail verify, naming the range.
    m.backfill(100).await;
    m.db.batch_execute(&format!(
        "ALTER TABLE {name} DISABLE TRIGGER ALL; UPDATE {name} SET holder = 'changed' WHERE id = 42;
         ALTER TABLE {name} ENABLE TRIGGER ALL;"))
        .await
        .unwrap();
    let v = m.phase(Phase::Verify).await;
    assert_eq!(v["passed"], false, "{v}");
    assert_eq!(v["firstDifference"]["upTo"], Value::Null, "{v}");
    let err = m.try_phase(Phase::Switch, None).await.unwrap_err();
    assert!(err.reason.contains("no passed verify"), "{err}");
    // A different spec under the same id is refused while the migration is live.
    m.raw["batchSize"] = serde_json::json!(7);
    let err = m.try_phase(Phase::Verify, None).await.unwrap_err();
    assert!(err.reason.contains("different spec"), "{err}");
}

#[tokio::test]
async fn a_mapping_the_table_cannot_satisfy_is_refused_before_any_trigger() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let name = cutover_scenarios::unique("tickets_bad_");
    let mut m = Migration::new(&name, 1000).await;
    pg::create_source(&m.db, &name, 10).await;
    m.raw["target"]["columns"][2]["from"] = serde_json::json!("holder_typo");
    m.spec = pg::parse(&m.raw);
    let err = m.try_phase(Phase::Expand, None).await.unwrap_err();
    assert_eq!(err.error_type, cutover_core::ErrorType::InvalidInput);
    assert!(err.reason.contains("holder_typo"), "{err}");
    assert!(!m.exists("_v2").await);
    // The application's writes still work: no broken trigger was left on the source.
    m.db.execute(&format!("UPDATE {name} SET holder = 'x' WHERE id = 1"), &[])
        .await
        .unwrap();
}

/// The TLS path the function takes to RDS, against the local server's certificate: verified with the
/// local CA as `DB_CA_BUNDLE`, refused with the RDS roots the function ships (an unknown CA is not
/// trusted because a bundle is there), never downgraded to plain text; and the password goes only to a
/// server that proves itself by SCRAM with channel binding (the cluster's `cutover_tls` role, as on
/// RDS), never to one that lets the session in without it (`postgres` is trusted locally).
#[tokio::test]
async fn tls_verify_full_needs_the_ca_bundle_and_channel_binding() {
    let raw = pg::spec_for("tls_probe", 1000);
    let spec_db = pg::parse(&raw).database;
    let mut db = cutover_core::migration::Credentials::password_only("local-only".into())
        .endpoint(&spec_db)
        .unwrap();
    db.tls = true;
    db.user = "cutover_tls".into();
    let pg_dir =
        std::env::var("PG_DIR").unwrap_or_else(|_| format!("/tmp/cutover-pg-{}", pg::pg_port()));
    let bundle = format!("{pg_dir}/tls/ca.crt");
    let client = cutover_migrate::connect::connect_with_bundle(&db, "local-only", Some(&bundle))
        .await
        .unwrap_or_else(|f| panic!("with {bundle}: {f}"));
    let row = client
        .query_one(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the session is not encrypted");
    println!("TLS session: {}", row.get::<_, String>(1));
    let err = cutover_migrate::connect::connect_with_bundle(&db, "local-only", None)
        .await
        .map(|_| ())
        .expect_err("a server certificate from an unknown CA must be refused");
    assert!(err.reason.contains("TLS handshake"), "{err}");
    db.user = "postgres".into();
    let err = cutover_migrate::connect::connect_with_bundle(&db, "local-only", Some(&bundle))
        .await
        .map(|_| ())
        .expect_err("a server that skips SCRAM channel binding must be refused");
    assert!(
        err.reason.to_lowercase().contains("channel binding"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appconfig_flag_switch_is_served_and_revert_restores_the_document() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let c = cutover_scenarios::LocalCloud::connect().await;
    let name = cutover_scenarios::unique("tickets_fl_");
    let app_name = name.replace('_', "-");
    let (app, env) = appconfig::flag_profile(&c, &app_name).await;
    let switch = cutover_aws::switch::Switches::from_conf(
        &c.conf_on_ministack(),
        Some(c.output("FlagsDeploymentStrategyId")),
        Some(c.output("FlagsApplicationId")),
    );
    let mut raw = pg::spec_for(&name, 2000);
    raw["switch"] = serde_json::json!({"flag": {"application": app_name, "environment": "prod",
        "profile": "tables", "name": "ticketsV2"}});
    let spec = pg::parse(&raw);
    let mut db = pg::connect().await;
    pg::create_source(&db, &name, 5_000).await;
    let before = appconfig::served_flags(&c, &app_name).await;
    macro_rules! phase {
        ($phase:expr, $cursor:expr) => {{
            let req = PhaseRequest {
                phase: $phase,
                cursor: $cursor,
            };
            run(&mut db, &spec, &raw, &req, &switch)
                .await
                .unwrap_or_else(|f| panic!("{}: {f}", $phase))
        }};
    }
    phase!(Phase::Expand, None);
    let mut cursor = None;
    loop {
        let out = phase!(Phase::Backfill, cursor);
        cursor = serde_json::from_value(out["cursor"].clone()).unwrap();
        if out["done"] == true {
            break;
        }
    }
    assert_eq!(phase!(Phase::Verify, None)["passed"], true);
    let switched = phase!(Phase::Switch, None);
    let on = appconfig::served_flags(&c, &app_name).await;
    assert_eq!(
        on["ticketsV2"],
        serde_json::json!({"enabled": true, "table": "tickets_v2"}),
        "switch: {switched}"
    );
    assert_eq!(on["darkMode"], before["darkMode"], "another flag changed");
    // A retried switch finds its change served and deploys nothing.
    let n = appconfig::deployments(&c, &app, &env).await;
    phase!(Phase::Switch, None);
    assert_eq!(appconfig::deployments(&c, &app, &env).await, n);

    let reverted = phase!(Phase::Revert, None);
    assert_eq!(
        appconfig::served_flags(&c, &app_name).await,
        before,
        "revert: {reverted}"
    );
    assert!(!table_exists(&db, &format!("public.{name}_v2")).await);
}

/// A table named as the target that the migration did not create is refused by expand and kept by
/// revert: `CREATE TABLE IF NOT EXISTS` + `DROP TABLE IF EXISTS` dropped it, with its rows.
#[tokio::test]
async fn a_target_that_was_there_before_is_refused_and_never_dropped() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let name = cutover_scenarios::unique("tickets_own_");
    let mut m = Migration::new(&name, 1000).await;
    pg::create_source(&m.db, &name, 10).await;
    m.db.batch_execute(&format!(
        "CREATE TABLE {name}_v2 (id bigint PRIMARY KEY, precious text);
         INSERT INTO {name}_v2 VALUES (1, 'the application''s own row')"
    ))
    .await
    .unwrap();
    let err = m.try_phase(Phase::Expand, None).await.unwrap_err();
    assert_eq!(err.error_type, cutover_core::ErrorType::InvalidInput);
    assert!(err.reason.contains("was not created by migration"), "{err}");
    let reverted = m.phase(Phase::Revert).await;
    assert_eq!(reverted["targetDropped"], false, "{reverted}");
    let kept: i64 =
        m.db.query_one(&format!("SELECT count(*) FROM {name}_v2"), &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(kept, 1, "the application's table lost its row");
    // Its own target is dropped as before.
    m.db.batch_execute(&format!("DROP TABLE {name}_v2"))
        .await
        .unwrap();
    m.phase(Phase::Expand).await;
    assert_eq!(m.phase(Phase::Revert).await["targetDropped"], true);
    assert!(!m.exists("_v2").await);
}

/// With `standard_conforming_strings = off` (a server or role default Cutover does not control) a
/// backslash in a plain literal escapes the closing quote: a mapping literal could end itself and run
/// its own statement inside expand's multi-statement batch, or inside the trigger on the
/// application's writes.
#[tokio::test]
async fn a_backslash_in_a_mapping_literal_stays_a_literal_with_standard_conforming_strings_off() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let name = cutover_scenarios::unique("tickets_bs_");
    let victim = format!("{name}_victim");
    let mut m = Migration::new(&name, 1000).await;
    pg::create_source(&m.db, &name, 10).await;
    m.db.batch_execute(&format!("CREATE TABLE {victim} (x int)"))
        .await
        .unwrap();
    // The text `\'` followed by SQL: in the spec's language the quote is doubled.
    // COMMIT first, so the statement would outlive expand's transaction rolling back.
    let literal = format!("'\\'' AS text) FROM pg_class; COMMIT; DROP TABLE {victim}; --'");
    let columns = m.raw["target"]["columns"].as_array_mut().unwrap();
    columns[3]["from"] = serde_json::json!(literal);
    columns.swap(0, 3);
    m.spec = pg::parse(&m.raw);
    m.db.batch_execute("SET standard_conforming_strings = off")
        .await
        .unwrap();
    let expanded = m.try_phase(Phase::Expand, None).await;
    assert!(
        table_exists(&m.db, &format!("public.{victim}")).await,
        "the mapping's literal ran SQL of its own in expand"
    );
    expanded.unwrap_or_else(|f| panic!("expand: {f}"));
    // The application writes with the same setting, so the trigger runs under it.
    m.db.execute(&format!("UPDATE {name} SET holder = 'x' WHERE id = 1"), &[])
        .await
        .unwrap();
    assert!(
        table_exists(&m.db, &format!("public.{victim}")).await,
        "the mapping's literal ran SQL of its own in the trigger"
    );
    let copied: String =
        m.db.query_one(
            &format!("SELECT email_lower FROM {name}_v2 WHERE id = 1"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        copied,
        format!("\\' AS text) FROM pg_class; COMMIT; DROP TABLE {victim}; --")
    );
    m.db.batch_execute("SET standard_conforming_strings = on")
        .await
        .unwrap();
    m.phase(Phase::Revert).await;
}

/// PostgreSQL quotes rows in DETAIL ("Failing row contains (…)") and a value that does not fit in a
/// data exception's message; a failure goes into the history, the logs and the CLI, so neither may.
#[tokio::test]
async fn a_failing_row_never_reaches_the_failure() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    for (column, secret) in [
        (
            json_column("notes_n", "bigint", true, "notes::bigint"),
            "card 4111-1111",
        ),
        (
            json_column("notes_t", "text", false, "notes"),
            "fan2@example.com",
        ),
    ] {
        let name = cutover_scenarios::unique("tickets_leak_");
        let mut m = Migration::new(&name, 1000).await;
        pg::create_source(&m.db, &name, 10).await;
        m.db.execute(
            &format!("UPDATE {name} SET notes = $1 WHERE id = 1"),
            &[&secret],
        )
        .await
        .unwrap();
        m.raw["target"]["columns"]
            .as_array_mut()
            .unwrap()
            .push(column);
        m.spec = pg::parse(&m.raw);
        m.phase(Phase::Expand).await;
        let err = m.try_phase(Phase::Backfill, None).await.unwrap_err();
        let shown = format!("{} {}", err.reason, err.details);
        assert!(err.reason.starts_with("PostgreSQL "), "{shown}");
        for leak in [secret, "fan2@example.com", "holder 2"] {
            assert!(
                !shown.contains(leak),
                "row data {leak:?} in the failure: {shown}"
            );
        }
        m.phase(Phase::Revert).await;
    }
}

fn json_column(name: &str, ty: &str, nullable: bool, from: &str) -> Value {
    serde_json::json!({ "name": name, "type": ty, "nullable": nullable, "from": from })
}
