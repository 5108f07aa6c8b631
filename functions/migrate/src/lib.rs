//! The migrate function: `{"phase", "spec", "cursor"?}` in, the phase's result out. The event and the
//! spec are validated whole before the password is read or a connection opened.

use cutover_aws::{Cloud, SecretSource};
use cutover_core::migration::{MigrationSpec, Phase};
use cutover_core::{ErrorType, Failure};
use cutover_migrate::PhaseRequest;
use serde_json::{json, Value};

/// A checked event: what to run, on which spec (kept as given, to recognise a re-used id).
#[derive(Debug)]
pub struct MigrateRequest {
    pub spec: MigrationSpec,
    pub raw_spec: Value,
    pub phase: PhaseRequest,
}

fn invalid(reason: impl Into<String>, details: Value) -> Failure {
    Failure::new(ErrorType::InvalidInput, reason).with_details(details)
}

impl MigrateRequest {
    pub fn from_event(event: &Value) -> Result<MigrateRequest, Failure> {
        parse(event)
    }
}

fn parse(event: &Value) -> Result<MigrateRequest, Failure> {
    let phase_name = event
        .get("phase")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let phase = Phase::parse(phase_name).ok_or_else(|| {
        invalid(
            format!("phase: must be one of expand, backfill, verify, switch, contract, restore, revert, got {:?}", event.get("phase")),
            json!({ "field": "phase" }),
        )
    })?;
    let raw_spec = event.get("spec").cloned().unwrap_or(Value::Null);
    let spec = MigrationSpec::from_json(&raw_spec).map_err(|errors| {
        let fields: Vec<String> = errors.iter().map(|e| format!("spec.{e}")).collect();
        invalid(
            format!("invalid migration spec: {}", fields.join("; ")),
            json!({ "fields": fields }),
        )
    })?;
    let cursor = match event.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items))
            if items.iter().all(Value::is_string) && items.len() == spec.key.len() =>
        {
            Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
            )
        }
        Some(other) => {
            return Err(invalid(
                format!(
                    "cursor: must be null or {} key values as strings, got {other}",
                    spec.key.len()
                ),
                json!({ "field": "cursor" }),
            ))
        }
    };
    Ok(MigrateRequest {
        spec,
        raw_spec,
        phase: PhaseRequest { phase, cursor },
    })
}

pub async fn handle(cloud: &impl Cloud, event: &Value) -> Result<Value, Failure> {
    let req = MigrateRequest::from_event(event)?;
    let switch = cloud.switches();
    let password = cloud
        .secrets()
        .password(&req.spec.database.password)
        .await?;
    let mut db = cutover_migrate::connect::connect(&req.spec.database, &password).await?;
    let started = std::time::Instant::now();
    let out = cutover_migrate::run(&mut db, &req.spec, &req.raw_spec, &req.phase, switch).await;
    let ms = started.elapsed().as_millis() as u64;
    match &out {
        Ok(v) => {
            tracing::info!(id = req.spec.id, phase = req.phase.phase.as_str(), ms, result = %v, "phase done")
        }
        Err(f) => {
            tracing::warn!(id = req.spec.id, phase = req.phase.phase.as_str(), ms, error = %f, "phase failed")
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_aws::fakes::FakeCloud;
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
}
